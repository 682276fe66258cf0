"""Widget API latency and the dashboard's first page load, on a (large) store.

    .venv/bin/python bench/widget_latency.py STORE --sync large      # sync it first (≈ 10 min)
    .venv/bin/python bench/widget_latency.py STORE [--iterations 20] [--as-of latest]
    .venv/bin/python bench/widget_latency.py /tmp/large.db --synthetic large   # shapes only

STORE is a path or a store URL (sqlite:///…, postgresql://…). `--sync PRESET` first copies
a simulated workspace of that size into it with a real `intercom-sync sync --full` (the
simulator in its own process, no latency, no effective rate limit); `--synthetic PRESET`
instead writes a synthetic workspace straight into the shape tables (no raw tables).

Every support-dashboard widget is requested through the real ASGI app in-process (httpx
ASGITransport: routing, SQL, JSON encoding and the thread hop, no network) for each view:
the default one, and `range=90d&team=<the busiest team>` (the filter case the target is
set for), or the `--view` query strings given. Per widget: the first request (cold: nothing
cached), then p50/p95 over `--iterations` rounds; target p95 ≤ 100 ms per widget.

The first page load (target ≤ 1 s) is measured twice per view, each time on a freshly
opened store and a new app: the page and all its widgets requested at once, as the page
does, until the last answer; and, when Debian's Chromium is installed, in the browser —
from navigation until every card has drawn (plotly.js included). The OS may still hold
the store's file in its cache; SQLite's own cache is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchlib import (
    OUT,
    SimulatorArgs,
    fresh_store,
    log,
    machine,
    run_measured,
    simulator,
    sync_argv,
    sync_env,
)
from intercom_sync.clock import Clock
from intercom_sync.commands.dashboard_cmd import resolve_clock
from intercom_sync.metrics import support_config
from intercom_sync.simulator.service import PRESETS
from intercom_sync.store import Store, apply_indexes, open_store
from intercom_sync.web.app import create_app

TARGET_MS = 100
PAGE_TARGET_MS = 1000
CHROMIUM = "/usr/bin/chromium"
# Requests/min for the simulator and our budget: far above what two processes reach.
HIGH_LIMIT = 6_000_000


def store_url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def build_synthetic(url: str, preset: str) -> None:
    # The generator is test scaffolding (tests/synthetic.py); importable here because
    # benchlib, imported above, put the repository root on sys.path.
    from tests.synthetic import SyntheticSpec, write_synthetic

    world = PRESETS[preset]
    spec = SyntheticSpec(
        seed=world.seed,
        now_ms=world.now * 1000,
        history_days=world.history_days,
        admins=world.admins,
        teams=world.teams,
        tags=world.tags,
        contacts=world.contacts,
        conversations=world.conversations,
        parts_gaps=world.long_conversations,
        page_size=5_000,
    )
    store = open_store(url)
    try:
        started = time.perf_counter()
        counts = write_synthetic(store, spec)
        print(f"built {preset}: {counts} in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        store.close()


def sync_simulated(path: Path, preset: str) -> dict[str, Any]:
    """A full sync of a simulated `preset` workspace into a fresh store at `path`."""
    fresh_store(path)
    work = OUT / "widget_latency"
    work.mkdir(parents=True, exist_ok=True)
    args = SimulatorArgs(scale=preset, latency_ms=0, rate_limit=HIGH_LIMIT)
    with simulator(args, work / f"simulator-{preset}.log") as sim:
        log(f"{preset}: syncing into {path}")
        measured = run_measured(
            sync_argv(sim.url, path, rate_limit=HIGH_LIMIT),
            env=sync_env(),
            stdout_path=work / f"sync-{preset}.log",
        )
    log(f"{preset}: synced in {measured.wall_seconds:.0f} s")
    return {"preset": preset, "sync": measured.to_dict()}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def busiest_team(store: Store, now_ms: int) -> str | None:
    """The team with the most conversations created in the 90 days before `now_ms`."""
    rows = store.query(
        "SELECT json_extract(attributes, '$.teamAssigneeId'), COUNT(*) FROM entities "
        "WHERE entity_type = 'intercom_conversation' AND deleted_at IS NULL "
        "AND json_extract(attributes, '$.createdAt') >= ? "
        "AND json_extract(attributes, '$.teamAssigneeId') IS NOT NULL GROUP BY 1 ORDER BY 2 DESC",
        (now_ms - 90 * 86_400_000,),
    )
    return str(rows[0][0]) if rows else None


async def measure(
    store: Store, clock: Clock, query: str, iterations: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The first request of each widget (cold: nothing cached), then `iterations` rounds."""
    app = create_app(store, support_config(), clock=clock)
    first: dict[str, float] = {}
    timings: dict[str, list[float]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        listing = (await client.get("/api/dashboards")).json()["dashboards"][0]["widgets"]
        for item in listing:
            started = time.perf_counter()
            (await client.get(item["url"] + query)).raise_for_status()
            first[item["id"]] = (time.perf_counter() - started) * 1000
        for _ in range(iterations):
            for item in listing:
                started = time.perf_counter()
                response = await client.get(item["url"] + query)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                timings.setdefault(item["id"], []).append(elapsed)
    return first, timings


async def page_load(url: str, clock: Clock, query: str) -> float:
    """A fresh store and app: the page and every widget at once, until the last answer (ms)."""
    store = open_store(url, migrate=False)
    try:
        app = create_app(store, support_config(), clock=clock)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            started = time.perf_counter()
            page = await client.get(f"/dashboards/support{query}")
            page.raise_for_status()
            listing = (await client.get("/api/dashboards")).json()["dashboards"][0]["widgets"]
            answers = await asyncio.gather(*(client.get(i["url"] + query) for i in listing))
            for answer in answers:
                answer.raise_for_status()
            return (time.perf_counter() - started) * 1000
    finally:
        store.close()


def browser_page_load(url: str, clock: Clock, query: str) -> float | None:
    """A fresh store and server, Chromium: navigation until every card has drawn (ms)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return None
    import uvicorn
    from playwright.sync_api import sync_playwright

    store = open_store(url, migrate=False)
    app = create_app(store, support_config(), clock=clock)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        address = f"http://127.0.0.1:{sock.getsockname()[1]}/dashboards/support{query}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(address)
                page.wait_for_function(
                    "() => [...document.querySelectorAll('[data-widget]')]"
                    ".every(c => c.dataset.state !== 'loading')",
                    timeout=120_000,
                )
                failed = page.eval_on_selector_all(
                    "[data-widget]", "cs => cs.filter(c => c.dataset.state !== 'ready').length"
                )
                if failed:
                    raise RuntimeError(f"{failed} widgets did not draw")
                return float(page.evaluate("performance.now()"))
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


def report(first: dict[str, float], timings: dict[str, list[float]]) -> dict[str, Any]:
    rows = {
        wid: {
            "first_ms": round(first[wid], 1),
            "p50_ms": round(statistics.median(t), 1),
            "p95_ms": round(percentile(t, 0.95), 1),
        }
        for wid, t in timings.items()
    }
    width = max(len(w) for w in rows)
    print(f"{'widget':<{width}}  {'first ms':>8}  {'p50 ms':>8}  {'p95 ms':>8}")
    for wid, r in rows.items():
        flag = "  over target" if r["p95_ms"] > TARGET_MS else ""
        print(
            f"{wid:<{width}}  {r['first_ms']:>8.1f}  {r['p50_ms']:>8.1f}  {r['p95_ms']:>8.1f}{flag}"
        )
    worst = max(rows.items(), key=lambda kv: kv[1]["p95_ms"])
    print(f"worst p95: {worst[0]} {worst[1]['p95_ms']:.1f} ms (target ≤ {TARGET_MS} ms)")
    return rows


def views(store: Store, clock: Clock, given: list[str] | None) -> list[str]:
    if given:
        return [q if not q or q.startswith("?") else f"?{q}" for q in given]
    team = busiest_team(store, int(clock.now() * 1000))
    return ["", f"?range=90d&team={team}"] if team else [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("store", help="store path or URL")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--as-of", default="latest", help="ISO time, or 'latest' (default)")
    parser.add_argument("--sync", choices=sorted(PRESETS), help="sync this size first")
    parser.add_argument("--synthetic", choices=sorted(PRESETS), help="build this size first")

    parser.add_argument(
        "--view",
        action="append",
        help="a view's query string (repeatable); default: none, and range=90d with the "
        "busiest team",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    url = store_url(args.store)
    synced = sync_simulated(Path(args.store), args.sync) if args.sync else None
    if args.synthetic:
        build_synthetic(url, args.synthetic)
    # What `serve` does first: the dashboard's indexes, and sampled planner statistics.
    started = time.perf_counter()
    apply_indexes(url, analyze=not url.startswith(("postgresql://", "postgres://")))
    print(f"indexes and statistics in {time.perf_counter() - started:.1f} s", flush=True)
    store = open_store(url)
    results: dict[str, Any] = {}
    try:
        clock = resolve_clock(args.as_of, store)
        for query in views(store, clock, args.view):
            store.close()
            loads = [asyncio.run(page_load(url, clock, query)) for _ in range(2)]
            in_browser = [browser_page_load(url, clock, query) for _ in range(2)]
            store = open_store(url, migrate=False)
            print(f"\nview {query or '(default)'}", flush=True)
            first, timings = asyncio.run(measure(store, clock, query, args.iterations))
            rows = report(first, timings)
            print(
                "first page load (fresh store): API "
                + ", ".join(f"{ms:.0f} ms" for ms in loads)
                + "; browser "
                + ", ".join("n/a" if ms is None else f"{ms:.0f} ms" for ms in in_browser)
                + f" (target ≤ {PAGE_TARGET_MS} ms)"
            )
            results[query or "(default)"] = {
                "widgets": rows,
                "page_load_ms": [round(ms, 1) for ms in loads],
                "browser_page_load_ms": [None if ms is None else round(ms, 1) for ms in in_browser],
            }
    finally:
        store.close()
    if args.json:
        payload = {
            "benchmark": "widget_latency",
            "machine": machine(),
            "command": " ".join([".venv/bin/python", "bench/widget_latency.py", *sys.argv[1:]]),
            "iterations": args.iterations,
            "synced": synced,
            "views": results,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
