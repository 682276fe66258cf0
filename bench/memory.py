"""Memory: peak RSS of `intercom-sync sync` for two workspace sizes (issue 5d).

    .venv/bin/python bench/memory.py              # medium and large (large: ~2 GB simulator)
    .venv/bin/python bench/memory.py --reduced    # small and 4× small
    .venv/bin/python bench/memory.py --sizes small,medium

The simulator serves each workspace from its own process with no latency and no rate
limit (the sync's budget is set far above anything reached), so the run is as short as
the two processes' CPU allows. The sync's peak RSS is the kernel's figure for its
process (`wait4`); the target is ≤ 200 MB and flat: the larger workspace should not need
noticeably more memory than the smaller one.
"""

from __future__ import annotations

import argparse
from typing import Any

from benchlib import (
    OUT,
    SimulatorArgs,
    fresh_store,
    log,
    run_measured,
    simulator,
    sync_argv,
    sync_env,
    write_result,
)

TARGET_MB = 200
# Requests/min for the simulator and our budget: far above what two processes on this
# machine reach, so nothing is held back (a disabled limit still sends X-RateLimit headers
# for a 1/min app, which the governor would honour).
HIGH_LIMIT = 6_000_000
# The reduced run's larger workspace: four times `small` in contacts and conversations.
SIZES: dict[str, SimulatorArgs] = {
    "small": SimulatorArgs(scale="small", latency_ms=0, rate_limit=HIGH_LIMIT),
    "small-x4": SimulatorArgs(
        scale="small",
        latency_ms=0,
        rate_limit=HIGH_LIMIT,
        counts={"contacts": 8_000, "conversations": 6_000, "companies": 1_200},
    ),
    "medium": SimulatorArgs(scale="medium", latency_ms=0, rate_limit=HIGH_LIMIT),
    "large": SimulatorArgs(scale="large", latency_ms=0, rate_limit=HIGH_LIMIT),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="small and 4× small")
    parser.add_argument("--sizes", help=f"comma-separated, from {', '.join(SIZES)}")
    return parser.parse_args()


def measure(name: str) -> dict[str, Any]:
    work = OUT / "memory"
    work.mkdir(parents=True, exist_ok=True)
    store = fresh_store(work / f"{name}.db")
    args = SIZES[name]
    with simulator(args, work / f"simulator-{name}.log") as sim:
        sim_rss = sim.rss_mb()
        sim.reset_stats()
        log(f"{name}: syncing (simulator RSS {sim_rss:.0f} MB)")
        measured = run_measured(
            sync_argv(sim.url, store, rate_limit=HIGH_LIMIT),
            env=sync_env(),
            stdout_path=work / f"sync-{name}.log",
        )
        stats = sim.stats()
    log(f"{name}: peak RSS {measured.peak_rss_mb:.0f} MB in {measured.wall_seconds:.0f} s")
    return {
        "workspace": args.describe(),
        "sync": measured.to_dict(),
        "requests": stats["total_requests"],
        "store_mb": round(store.stat().st_size / 1024 / 1024, 1),
        "simulator_rss_mb_at_start": round(sim_rss),
    }


def main() -> None:
    args = parse_args()
    if args.sizes:
        sizes = [s.strip() for s in args.sizes.split(",")]
    else:
        sizes = ["small", "small-x4"] if args.reduced else ["medium", "large"]
    results = {name: measure(name) for name in sizes}
    peaks = [r["sync"]["peak_rss_mb"] for r in results.values()]
    print()
    for name, r in results.items():
        sync = r["sync"]
        print(
            f"{name:<10} peak RSS {sync['peak_rss_mb']:>6.0f} MB"
            f"  wall {sync['wall_seconds']:>7.1f} s  requests {r['requests']:>8,}"
            f"  store {r['store_mb']:>7.1f} MB"
        )
    growth = peaks[-1] / peaks[0] if peaks[0] else None
    print(f"largest peak {max(peaks):.0f} MB (target ≤ {TARGET_MB} MB); growth ×{growth:.2f}")
    write_result(
        "memory",
        {
            "sizes": results,
            "max_peak_rss_mb": max(peaks),
            "growth_factor": round(growth, 2) if growth else None,
            "target_mb": TARGET_MB,
        },
    )


if __name__ == "__main__":
    main()
