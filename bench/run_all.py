"""Run every benchmark of issues 2, 5 and 10, one after the other, and summarise them.

    .venv/bin/python bench/run_all.py --reduced    # `make bench`: all of them in < 10 min
    .venv/bin/python bench/run_all.py              # full sizes (about 1.5 hours)

Each benchmark runs as its own process (as a user would run it) and leaves its JSON in
`bench/out/`; this script then prints one line per target and writes
`bench/out/summary.json`. `bench/widget_latency.py` (issues 6 and 12) needs a synced
store (`--sync large` builds one, about a quarter of an hour) and is not run here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import OUT, REPO, log, write_result

BENCHMARKS = (
    "floor_ratio",
    "completeness",
    "local_ceiling",
    "memory",
    "peers",
    "simulator_throughput",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="reduced sizes, < 10 minutes")
    parser.add_argument(
        "--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default: all)"
    )
    return parser.parse_args()


def run_one(name: str, reduced: bool) -> dict[str, Any]:
    argv = [sys.executable, str(REPO / "bench" / f"{name}.py")]
    if reduced:
        argv.append("--reduced")
    log(f"=== {name} {'(reduced)' if reduced else ''}")
    started = time.perf_counter()
    exit_code = subprocess.run(argv, cwd=REPO, check=False).returncode
    seconds = round(time.perf_counter() - started, 1)
    path = OUT / f"{name}.json"
    result = json.loads(path.read_text()) if exit_code == 0 and path.exists() else None
    return {"exit_code": exit_code, "seconds": seconds, "result": result}


def verdicts(runs: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    floor = (runs.get("floor_ratio") or {}).get("result")
    if floor:
        lines.append(
            f"floor ratio {floor['floor_ratio']:.3f} (≤ 1.10), {floor['responses_429']} × 429 "
            f"over {floor['requests']:,} requests"
        )
    checked = (runs.get("completeness") or {}).get("result")
    if checked:
        full, inc = checked["full_sync"], checked["incremental"]
        repair = checked["repair"]
        lines.append(
            f"counting {100 * full['share']:.3f} % of a full sync (≤ 1 %), "
            f"{100 * inc['share']:.2f} % of an incremental one; "
            f"{sum(repair['rows_deleted_by_hand'].values())} lost rows found and re-read in "
            f"{repair['sync']['check_requests_total']} requests"
        )
    ceiling = (runs.get("local_ceiling") or {}).get("result")
    if ceiling:
        rate = ceiling["results"]["conversations+parts"]["records_per_second"]
        lines.append(f"local ceiling {rate:,} conversations/s (≥ 60,000)")
    memory = (runs.get("memory") or {}).get("result")
    if memory:
        peak, growth = memory["max_peak_rss_mb"], memory["growth_factor"]
        lines.append(f"peak RSS {peak:.0f} MB (≤ 200), growth ×{growth}")
    peers = (runs.get("peers") or {}).get("result")
    if peers:
        for name, factor in peers["speedup"].items():
            lines.append(f"vs {name}: {factor}× faster (≥ 10×)")
    simulated = (runs.get("simulator_throughput") or {}).get("result")
    if simulated:
        pages = simulated["search_pages_per_core_second"]
        lines.append(f"simulator: {pages:,} search pages/s per core (≥ 300)")
    return lines


def main() -> None:
    args = parse_args()
    chosen = [n.strip() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    started = time.perf_counter()
    runs = {name: run_one(name, args.reduced) for name in chosen}
    total = round(time.perf_counter() - started, 1)
    print()
    for name, run in runs.items():
        print(f"{name:<14} exit {run['exit_code']}  {run['seconds']:>7.1f} s")
    for line in verdicts(runs):
        print(f"  {line}")
    print(f"total {total:.0f} s")
    write_result(
        "summary",
        {
            "reduced": args.reduced,
            "total_seconds": total,
            "runs": {n: {k: v for k, v in r.items() if k != "result"} for n, r in runs.items()},
            "verdicts": verdicts(runs),
        },
    )
    if any(run["exit_code"] != 0 for run in runs.values()):
        sys.exit(1)


if __name__ == "__main__":
    Path(OUT).mkdir(parents=True, exist_ok=True)
    main()
