"""Widget API latency: time every support-dashboard widget through the JSON API.

    .venv/bin/python bench/widget_latency.py STORE [--iterations 20] [--as-of latest]
    .venv/bin/python bench/widget_latency.py /tmp/large.db --synthetic large   # build it first

STORE is a path or a store URL (sqlite:///…, postgresql://…). Requests go through the
real ASGI app in-process (httpx ASGITransport), so the figures include routing, JSON
encoding and the thread hop, but no network. Prints p50/p95 per widget in ms; the
target is p95 ≤ 100 ms per widget on a `large` store (DESIGN §8, issue 6).

`--synthetic large` fills an empty STORE with a synthetic workspace of the `large`
preset's size (≈100k conversations, 200k contacts) written straight into the shape
tables, which takes a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchlib import machine
from intercom_sync.clock import Clock
from intercom_sync.metrics import support_config
from intercom_sync.metrics.indexes import apply_indexes
from intercom_sync.metrics.synthetic import SyntheticSpec, write_synthetic
from intercom_sync.simulator.spec import PRESETS
from intercom_sync.store import Store, open_store
from intercom_sync.web.app import create_app
from intercom_sync.web.cli import resolve_clock


def store_url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def build_synthetic(url: str, preset: str) -> None:
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def measure(
    store: Store, clock: Clock, iterations: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The first request of each widget (cold: nothing cached, nothing warmed up), then
    `iterations` rounds over every widget."""
    app = create_app(store, support_config(), clock=clock)
    first: dict[str, float] = {}
    timings: dict[str, list[float]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        listing = (await client.get("/api/dashboards")).json()["dashboards"][0]["widgets"]
        for item in listing:
            started = time.perf_counter()
            (await client.get(item["url"])).raise_for_status()
            first[item["id"]] = (time.perf_counter() - started) * 1000
        for _ in range(iterations):
            for item in listing:
                started = time.perf_counter()
                response = await client.get(item["url"])
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                timings.setdefault(item["id"], []).append(elapsed)
    return first, timings


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
        flag = "  over target" if r["p95_ms"] > 100 else ""
        print(
            f"{wid:<{width}}  {r['first_ms']:>8.1f}  {r['p50_ms']:>8.1f}  {r['p95_ms']:>8.1f}{flag}"
        )
    worst = max(rows.items(), key=lambda kv: kv[1]["p95_ms"])
    print(f"worst p95: {worst[0]} {worst[1]['p95_ms']:.1f} ms (target ≤ 100 ms)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("store", help="store path or URL")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--as-of", default="latest", help="ISO time, or 'latest' (default)")
    parser.add_argument("--synthetic", choices=sorted(PRESETS), help="build this size first")
    parser.add_argument(
        "--indexes",
        action="store_true",
        help="create the dashboard indexes first (see metrics.indexes)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    url = store_url(args.store)
    if args.synthetic:
        build_synthetic(url, args.synthetic)
    if args.indexes:
        started = time.perf_counter()
        apply_indexes(url, analyze=False)
        print(f"indexes created in {time.perf_counter() - started:.1f} s", flush=True)
    store = open_store(url)
    try:
        clock = resolve_clock(args.as_of, store)
        first, timings = asyncio.run(measure(store, clock, args.iterations))
    finally:
        store.close()
    rows = report(first, timings)
    if args.json:
        payload = {
            "benchmark": "widget_latency",
            "machine": machine(),
            "command": " ".join([".venv/bin/python", "bench/widget_latency.py", *sys.argv[1:]]),
            "iterations": args.iterations,
            "widgets": rows,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
