"""Floor ratio: how close a full sync comes to the rate limit's floor (DESIGN §8, issue 5a).

    .venv/bin/python bench/floor_ratio.py                 # medium workspace, 115 ms ± 50 %
    .venv/bin/python bench/floor_ratio.py --reduced       # small workspace (about a minute)

A simulator serves the workspace from its own process with jittered latency and a
10,000/min limit; `intercom-sync sync --full` runs into a fresh SQLite store as a second
process. The floor is the least time the requests it needed can take under the limit
(requests ÷ limit); the ratio is wall time ÷ floor (target ≤ 1.10) and the 429s the
simulator answered (target ≈ 0). The copy is then checked against the simulator's ground
truth, stream by stream.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchlib import (
    DEFAULT_LATENCY_MS,
    DEFAULT_LIMIT,
    OUT,
    SimulatorArgs,
    completeness,
    counting_share,
    floor_seconds,
    fresh_store,
    log,
    run_measured,
    simulator,
    store_keys,
    sync_argv,
    sync_env,
    write_result,
)
from intercom_sync.simulator.service import STREAMS as TRUTH_STREAMS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="small workspace instead")
    parser.add_argument("--scale", help="workspace preset (default: medium, small if reduced)")
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="requests/min")
    parser.add_argument("--budget", type=int, help="our api_rate_limit (default: the limit itself)")
    parser.add_argument("--no-check", action="store_true", help="skip the completeness check")
    return parser.parse_args()


def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = args.scale or ("small" if args.reduced else "medium")
    sim_args = SimulatorArgs(scale=scale, latency_ms=args.latency_ms, rate_limit=args.limit)
    budget = args.budget or args.limit
    work = OUT / "floor_ratio"
    work.mkdir(parents=True, exist_ok=True)
    store = fresh_store(work / "store.db")
    with simulator(sim_args, work / "simulator.log") as sim:
        sim.reset_stats()
        log(f"syncing {scale} with a budget of {budget}/min")
        measured = run_measured(
            sync_argv(sim.url, store, rate_limit=budget),
            env=sync_env(),
            stdout_path=work / "sync.log",
        )
        stats = sim.stats()
        check = None if args.no_check else _check(sim, store)
    requests = int(stats["total_requests"])
    floor = floor_seconds(requests, args.limit)
    return {
        "workspace": sim_args.describe(),
        "budget_per_minute": budget,
        "sync": measured.to_dict(),
        "requests": requests,
        "requests_by_endpoint": stats["requests"],
        "responses_429": stats["too_many_requests"],
        "max_in_flight": stats["max_in_flight"],
        "floor_seconds": round(floor, 2),
        "floor_ratio": round(measured.wall_seconds / floor, 3),
        "target_floor_ratio": 1.10,
        "completeness": check,
        # Checking the copy against Intercom's counts is part of every pass (issue 10).
        "counting": counting_share(store),
    }


def _check(sim: Any, store: Path) -> dict[str, Any]:
    log("checking the copy against the ground truth")
    truth = sim.truth_keys(TRUTH_STREAMS)
    return completeness(truth, store_keys(store, TRUTH_STREAMS), sim.parts_beyond_cap())


def report(result: dict[str, Any]) -> None:
    sync = result["sync"]
    print()
    print(f"workspace        {result['workspace']['scale']}")
    print(f"wall time        {sync['wall_seconds']:.1f} s (exit {sync['exit_code']})")
    print(f"CPU time         {sync['cpu_seconds']:.1f} s, peak RSS {sync['peak_rss_mb']:.0f} MB")
    print(f"requests         {result['requests']:,}  (429s: {result['responses_429']})")
    print(f"floor            {result['floor_seconds']:.1f} s at {DEFAULT_LIMIT:,}/min")
    print(f"floor ratio      {result['floor_ratio']:.3f}  (target ≤ 1.10)")
    counting = result["counting"]
    print(
        f"counting         {counting['check_requests_total']} requests "
        f"({100 * counting['share']:.3f} % of the sync's)"
    )
    if result["completeness"]:
        short = {s: c for s, c in result["completeness"].items() if c["fraction"] < 1.0}
        print(f"complete copy    {'yes' if not short else f'NO: {short}'}")


def main() -> None:
    result = run(parse_args())
    report(result)
    write_result("floor_ratio", result)


if __name__ == "__main__":
    main()
