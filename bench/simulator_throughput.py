"""Simulator throughput (issue 2): what one simulator core serves, and what a preset costs
to generate.

    .venv/bin/python bench/simulator_throughput.py             # serve medium, generate large
    .venv/bin/python bench/simulator_throughput.py --reduced   # serve small, generate medium

Serving: `intercom-sync simulate` (no latency, no effective rate limit) runs in its own
process with every thread pinned to one CPU; this process, pinned to the other, keeps
`--concurrency` requests in flight for `--seconds` per endpoint:

* `POST /conversations/search`, 150 conversations a page, cycling through every page of
  an ascending `updated_at` query (the cursors are collected first);
* `GET /conversations/{id}`, cycling through every conversation.

Reported per endpoint: responses/s as measured, and the simulator's own CPU-seconds per
response (from /proc), whose inverse is what one fully busy core would serve. The second
figure is the capacity; the first can be held back by this load generator. Target:
≥ 300 search pages/s, so the simulator is never what limits a sync at 10,000/min.

Generation: a fresh process builds the preset's world (`Simulator(...)`, as
`intercom-sync simulate` does before it listens); its wall time and peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchlib import OUT, SIM_TOKEN, SimulatorArgs, log, simulator, write_result

TARGET_SEARCH_PAGES_PER_SECOND = 300
SEARCH_BODY: dict[str, Any] = {
    "query": {"field": "updated_at", "operator": ">", "value": 0},
    "sort": {"field": "updated_at", "order": "ascending"},
    "pagination": {"per_page": 150},
}
HEADERS = {"Authorization": f"Bearer {SIM_TOKEN}", "Intercom-Version": "2.11"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="serve small, generate medium")
    parser.add_argument("--serve-scale", help="preset served (default medium; small reduced)")
    parser.add_argument("--generate-scale", help="preset generated (default large)")
    parser.add_argument("--seconds", type=float, help="per endpoint (default 15; 5 reduced)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--generate-only", help=argparse.SUPPRESS)  # the child process
    return parser.parse_args()


# -- generation ---------------------------------------------------------------------------
def generate_in_this_process(scale: str) -> None:
    from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec

    started = time.perf_counter()
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset(scale, seed=1)))
    seconds = time.perf_counter() - started
    counts = {kind: len(getattr(sim.world, kind)) for kind in ("contacts", "conversations")}
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": _own_peak_mb(), **counts}))


def _own_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure_generation(scale: str) -> dict[str, Any]:
    log(f"generating the {scale} preset in a fresh process")
    argv = [sys.executable, __file__, "--generate-only", scale]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"{scale}: {result['seconds']} s, peak RSS {result['peak_rss_mb']} MB")
    return {"scale": scale, **result}


# -- serving ------------------------------------------------------------------------------
def pin_process(pid: int, cpu: int) -> None:
    """Pin every thread of `pid` (a uvicorn server has a few) to one CPU."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpu})


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def search_cursors(client: httpx.AsyncClient) -> list[str | None]:
    cursors: list[str | None] = [None]
    while True:
        body = {**SEARCH_BODY, "pagination": {"per_page": 150, "starting_after": cursors[-1]}}
        page = (await client.post("/conversations/search", json=body)).raise_for_status().json()
        after = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
        if not after:
            return cursors
        cursors.append(after)


async def conversation_ids(client: httpx.AsyncClient, cursors: list[str | None]) -> list[str]:
    ids: list[str] = []
    for cursor in cursors:
        body = {**SEARCH_BODY, "pagination": {"per_page": 150, "starting_after": cursor}}
        page = (await client.post("/conversations/search", json=body)).json()
        ids += [c["id"] for c in page["conversations"]]
    return ids


async def load(
    send: Any, items: list[Any], seconds: float, concurrency: int
) -> tuple[int, float, int]:
    """Keep `concurrency` requests in flight for `seconds`: (responses, elapsed, bytes)."""
    cycle = itertools.cycle(items)
    deadline = time.perf_counter() + seconds
    totals = {"responses": 0, "bytes": 0}

    async def worker() -> None:
        while time.perf_counter() < deadline:
            response = await send(next(cycle))
            response.raise_for_status()
            totals["responses"] += 1
            totals["bytes"] += len(response.content)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return totals["responses"], time.perf_counter() - started, totals["bytes"]


async def measure_endpoints(
    url: str, pid: int, seconds: float, concurrency: int
) -> dict[str, dict[str, Any]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, limits=limits) as client:
        cursors = await search_cursors(client)
        ids = await conversation_ids(client, cursors)
        endpoints = {
            "POST /conversations/search (150 a page)": (
                lambda cursor: client.post(
                    "/conversations/search",
                    json={**SEARCH_BODY, "pagination": {"per_page": 150, "starting_after": cursor}},
                ),
                cursors,
            ),
            "GET /conversations/{id}": (lambda cid: client.get(f"/conversations/{cid}"), ids),
        }
        results = {}
        for name, (send, items) in endpoints.items():
            cpu_before = cpu_seconds(pid)
            responses, elapsed, size = await load(send, items, seconds, concurrency)
            cpu = cpu_seconds(pid) - cpu_before
            results[name] = summarise(name, responses, elapsed, size, cpu)
        return results


def summarise(name: str, responses: int, elapsed: float, size: int, cpu: float) -> dict[str, Any]:
    per_response = cpu / responses if responses else float("inf")
    row = {
        "responses": responses,
        "seconds": round(elapsed, 2),
        "responses_per_second": round(responses / elapsed, 1),
        "simulator_cpu_seconds": round(cpu, 2),
        "simulator_core_busy": round(cpu / elapsed, 2),
        "per_core_capacity_per_second": round(1 / per_response, 1),
        "mean_body_kb": round(size / max(1, responses) / 1024, 1),
    }
    log(
        f"{name}: {row['responses_per_second']:,}/s measured, simulator core "
        f"{row['simulator_core_busy']:.0%} busy -> {row['per_core_capacity_per_second']:,}/s "
        f"per core ({row['mean_body_kb']} KB a response)"
    )
    return row


def main() -> None:
    args = parse_args()
    if args.generate_only:
        generate_in_this_process(args.generate_only)
        return
    serve = args.serve_scale or ("small" if args.reduced else "medium")
    generate = args.generate_scale or ("medium" if args.reduced else "large")
    seconds = args.seconds or (5.0 if args.reduced else 15.0)
    os.sched_setaffinity(0, {1})
    sim_args = SimulatorArgs(scale=serve, latency_ms=0, jitter=False, rate_limit=6_000_000)
    with simulator(sim_args, OUT / "simulator_throughput.log") as sim:
        pin_process(sim.proc.pid, 0)
        served = asyncio.run(measure_endpoints(sim.url, sim.proc.pid, seconds, args.concurrency))
    search = served["POST /conversations/search (150 a page)"]["per_core_capacity_per_second"]
    write_result(
        "simulator_throughput",
        {
            "served_scale": serve,
            "seconds_per_endpoint": seconds,
            "concurrency": args.concurrency,
            "endpoints": served,
            "generation": measure_generation(generate),
            "search_pages_per_core_second": search,
            "target_search_pages_per_second": TARGET_SEARCH_PAGES_PER_SECOND,
        },
    )
    print(f"search pages per simulator core: {search:,}/s (target ≥ 300)")


if __name__ == "__main__":
    main()
