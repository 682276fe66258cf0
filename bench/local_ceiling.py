"""Local ceiling: records/s through parse → transform → store, no HTTP (issue 5c).

    .venv/bin/python bench/local_ceiling.py              # medium: 20,000 conversations
    .venv/bin/python bench/local_ceiling.py --reduced    # 6,000 conversations and contacts

The simulator (in this process) serves every search page of `conversations` and
`contacts` once; their response bodies are kept as bytes. Then, pinned to one CPU, each
page is replayed through the engine's own code for a search page: `orjson.loads`, the
exact-bound filter, `search_stream._page_write` (row plans, entities, edges, and — when the
parts stream is not selected — events and metrics from the statistics block) and
`AsyncStore.apply` into a fresh SQLite store, one transaction per page, as a sync does.

Modes:
* `conversations+parts`: what a full sync does (the parts child builds events later);
* `conversations alone`: events (~7) and metric rows (~15) per conversation written with
  the page: the heaviest page a sync writes;
* `contacts+links`: contacts with the contact-links child selected, as a full sync does.

Also timed separately: parse alone, and parse + transform without the store.
Target: ≥ 60,000 conversations/s (DESIGN §8).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchlib import log, write_result
from intercom_sync.client.http import ClientOptions, IntercomClient
from intercom_sync.clock import ManualClock
from intercom_sync.config import IntercomSettings, Settings
from intercom_sync.engine.bounds import plan_search_pass, search_body
from intercom_sync.engine.context import NullProgress, SyncContext
from intercom_sync.engine.runners.search_stream import _page_write
from intercom_sync.engine.sync import run_options
from intercom_sync.engine.tuning import tune_gc
from intercom_sync.simulator.service import (
    Quirks,
    RateLimitSpec,
    Simulator,
    SimulatorConfig,
    WorldSpec,
)
from intercom_sync.store import Store, open_store
from intercom_sync.store.writer import AsyncStore
from intercom_sync.streams.catalog import STREAMS
from intercom_sync.streams.transform import conversation_shapes, page_writes

TARGET = 60_000
MODES: dict[str, tuple[str, frozenset[str]]] = {
    "conversations+parts": ("conversations", frozenset({"conversations", "conversation_parts"})),
    "conversations alone": ("conversations", frozenset({"conversations"})),
    "contacts+links": ("contacts", frozenset({"contacts", "contact_links"})),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="6,000 records per stream")
    parser.add_argument("--conversations", type=int, help="override the workspace size")
    parser.add_argument("--contacts", type=int, help="override the workspace size")
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin to (default 0)")
    parser.add_argument("--no-gc-tuning", action="store_true", help="leave Python's GC as is")
    return parser.parse_args()


def workspace(args: argparse.Namespace) -> WorldSpec:
    size = 6_000 if args.reduced else None
    overrides: dict[str, Any] = {"companies": 300 if args.reduced else 3_000}
    conversations = args.conversations or size
    contacts = args.contacts or size
    if conversations:
        overrides["conversations"] = conversations
    if contacts:
        overrides["contacts"] = contacts
    return WorldSpec.preset("medium", **overrides)


async def fetch_pages(sim: Simulator, stream: str) -> list[bytes]:
    """Every search page of `stream`, as the bytes the simulator serves."""
    spec = STREAMS[stream]
    body = search_body(0, 150)
    pages: list[bytes] = []
    async with sim.client() as client:
        while True:
            response = await client.post(spec.endpoint, json=body)
            response.raise_for_status()
            pages.append(response.content)
            following = (orjson.loads(response.content).get("pages") or {}).get("next")
            if not following:
                return pages
            body = {**body, "pagination": {"per_page": 150, **following}}


def make_context(store_path: Path, selected: frozenset[str]) -> tuple[SyncContext, Store]:
    intercom = IntercomSettings(
        access_token="unused",  # noqa: S106 - the client sends no request here
        base_url="http://unused.invalid",
        start_date="1970-01-01",
    )
    settings = Settings(intercom=intercom)
    store = open_store(f"sqlite:///{store_path}")
    return SyncContext(
        client=IntercomClient(ClientOptions.from_settings(settings)),
        store=AsyncStore(store),
        options=run_options(settings, full=True),
        clock=ManualClock(),
        run_id="bench",
        progress=NullProgress(),
        selected=selected,
    ), store


async def replay(pages: list[bytes], stream: str, ctx: SyncContext) -> int:
    """The engine's per-page path for every page; returns the records written."""
    spec = STREAMS[stream]
    current = plan_search_pass(
        {}, full=True, start=0, lookback_days=0, server_now=ctx.clock.now(), search_lag=0
    )
    written = 0
    try:
        for body in pages:
            data = orjson.loads(body)
            records = [r for r in data.get(spec.records_key) or [] if isinstance(r, dict)]
            kept = [r for r in records if (r.get("updated_at") or 0) >= current.lower]
            current = current.advanced(max((r["updated_at"] for r in kept), default=None))
            await ctx.apply(await _page_write(ctx, spec, kept, current, {}))
            written += len(kept)
    finally:
        ctx.store.close()  # waits for the last commit: part of the measured time
    return written


def replay_timed(
    label: str, pages: list[bytes], stream: str, selected: frozenset[str], path: Path
) -> dict[str, Any]:
    """Store, schema and client are set up before the clock starts."""
    ctx, store = make_context(path, selected)
    try:
        return timed(label, 0, lambda: asyncio.run(replay(pages, stream, ctx)))
    finally:
        asyncio.run(ctx.client.aclose())
        store.close()


def timed(label: str, records: int, fn: Any) -> dict[str, Any]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    count = result if isinstance(result, int) else records
    row = {
        "records": count,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "records_per_second": round(count / wall) if wall else None,
    }
    log(f"{label:<34} {row['records_per_second']:>9,} records/s  ({count:,} in {wall:.2f} s)")
    return row


def parse_only(pages: list[bytes], stream: str) -> int:
    key = STREAMS[stream].records_key
    return sum(len(orjson.loads(p).get(key) or []) for p in pages)


def transform_only(pages: list[bytes], stream: str, with_events: bool) -> int:
    count = 0
    for body in pages:
        records = orjson.loads(body)[STREAMS[stream].records_key]
        page_writes(stream, records)
        if with_events:
            for record in records:
                conversation_shapes(record, None)
        count += len(records)
    return count


def measure(pages: dict[str, list[bytes]], workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for stream, bodies in pages.items():
        results[f"{stream}: parse"] = timed(
            f"{stream}: parse", 0, lambda b=bodies, s=stream: parse_only(b, s)
        )
    results["conversations: parse+transform (no events)"] = timed(
        "conversations: parse+transform", 0,
        lambda: transform_only(pages["conversations"], "conversations", False),
    )  # fmt: skip
    results["conversations: parse+transform+events"] = timed(
        "conversations: parse+transform+events", 0,
        lambda: transform_only(pages["conversations"], "conversations", True),
    )  # fmt: skip
    for mode, (stream, selected) in MODES.items():
        path = workdir / f"{mode.replace(' ', '_').replace('+', '_')}.db"
        results[mode] = replay_timed(f"{mode}: full path", pages[stream], stream, selected, path)
    return results


def main() -> None:
    args = parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    world = workspace(args)
    config = SimulatorConfig(
        world=world,
        quirks=Quirks(search_lag_seconds=0),
        rate_limit=RateLimitSpec(enabled=False),
    )
    log(f"generating {world.conversations:,} conversations, {world.contacts:,} contacts")
    sim = Simulator(config, clock=ManualClock(world.now))
    pages = {s: asyncio.run(fetch_pages(sim, s)) for s in ("conversations", "contacts")}
    del sim
    total = {s: sum(len(p) for p in bodies) for s, bodies in pages.items()}
    log(f"pages: { {s: len(b) for s, b in pages.items()} }, bytes: {total}")
    if not args.no_gc_tuning:
        tune_gc()  # what `intercom-sync sync` does at start-up
    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
        results = measure(pages, Path(tmp))
    best = results["conversations+parts"]["records_per_second"]
    heavy = results["conversations alone"]["records_per_second"]
    print(f"\nconversations/s, full path as a sync runs it: {best:,} (target ≥ {TARGET:,})")
    print(f"conversations/s with events and metrics:      {heavy:,}")
    write_result(
        "local_ceiling",
        {
            "workspace": {"conversations": world.conversations, "contacts": world.contacts},
            "pinned_cpu": args.cpu,
            "gc_tuned": not args.no_gc_tuning,
            "page_bytes": total,
            "results": results,
            "target_conversations_per_second": TARGET,
        },
    )


if __name__ == "__main__":
    main()
