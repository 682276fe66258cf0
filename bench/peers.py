"""Peers, side by side: intercom-sync, airbyte-source-intercom and tap-intercom against the
same simulated workspace, limit and latency (issue 5b) — and our own Airbyte executable,
`source-intercom-sync`, run and counted by the same runner as airbyte-source-intercom
(issue 14: `--tools ours-airbyte,airbyte`).

    .venv/bin/python bench/peers.py                      # medium, 600 s cap per peer
    .venv/bin/python bench/peers.py --reduced            # small, 60 s cap per peer
    .venv/bin/python bench/peers.py --cap 3600 --tools airbyte

Each peer is installed from PyPI by this script into its own throwaway virtualenv under
`bench/.peers/` (git-ignored) and pointed at the simulator by patching THAT copy only: the
API host (Airbyte's manifest `url_base`, the Singer tap's `IntercomClient.base_url`) and
the `Intercom-Version` they send (2.9, 2.10 and 2.12, which the simulator does not
serve) → 2.11. The Singer tap's search also resumes by `id > last_processed` sorted by
id, which the simulator does not implement (it filters and sorts on `updated_at`): on a
first run that clause matches everything, so it becomes an always-true `updated_at`
clause and the sort `updated_at` (see SINGER below). Nothing else of theirs is changed:
their pacing, sleeps, paging and concurrency are their own.

Every tool gets a freshly started simulator (same seed, so the same workspace; no scroll
left open by the tool before). Per tool: wall time, CPU time and peak RSS of its process
(from the kernel), requests and 429s (`/_sim/stats`), and per stream how many of the
ground truth's records it emitted or stored. intercom-sync syncs only the streams all
three share, so the times compare the same work.

Peers are slow (one request at a time, sleeps after responses): a peer still running at
the cap is stopped, what it did is reported, and its full time is EXTRAPOLATED, labelled
as such: the requests intercom-sync needed for the same streams ÷ the peer's own observed
request rate. It is a lower bound whenever the peer needs more requests than we do.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    BIN,
    DEFAULT_LATENCY_MS,
    DEFAULT_LIMIT,
    OUT,
    REPO,
    SIM_TOKEN,
    SimulatorArgs,
    completeness,
    fresh_store,
    log,
    run_measured,
    simulator,
    store_keys,
    stream_completeness,
    sync_argv,
    sync_env,
    write_result,
)
from intercom_sync.simulator.service import STREAMS as TRUTH_STREAMS

PEERS_DIR = REPO / "bench" / ".peers"
START_DATE = "2020-01-01T00:00:00Z"
# Streams whose truth key is composite: a peer's records are matched by count, not by key.
COMPOSITE_KEYED = frozenset({"contact_attributes", "company_attributes", "company_segments"})


# -- installing and patching a peer -----------------------------------------------------------
@dataclass(frozen=True)
class Peer:
    name: str
    package: str
    module: str  # the installed package's import name
    patches: dict[str, list[tuple[str, str]]]  # file in the package -> (old, new); {url}

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def package_dir(self) -> Path:
        found = list(self.venv.glob(f"lib/python3*/site-packages/{self.module}"))
        if not found:
            raise RuntimeError(f"{self.package} is not installed in {self.venv}")
        return found[0]

    def version(self) -> str:
        result = subprocess.run(
            [str(self.python), "-m", "pip", "show", self.package],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in result.stdout.splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"


AIRBYTE = Peer(
    name="airbyte",
    package="airbyte-source-intercom",
    module="source_intercom",
    patches={
        "manifest.yaml": [
            ('url_base: "https://api.intercom.io/"', 'url_base: "{url}/"'),
            ("Intercom-Version: \"'2.10'\"", "Intercom-Version: \"'2.11'\""),
            ('Intercom-Version: "2.9"', 'Intercom-Version: "2.11"'),  # conversations
        ]
    },
)
_TAP_ID_CLAUSE = (
    "'field': 'id',\n{pad}'operator': '{op}',\n{pad}'value': self.last_processed or \"\""
)
_TAP_ALWAYS_TRUE = "'field': 'updated_at',\n{pad}'operator': '>',\n{pad}'value': -1"
_PAD = " " * 32
SINGER = Peer(
    name="singer",
    package="tap-intercom",
    module="tap_intercom",
    patches={
        "client.py": [
            ("self.base_url = 'https://api.intercom.io'", "self.base_url = '{url}'"),
            ("API_VERSION = '2.12'", "API_VERSION = '2.11'"),
        ],
        # Its search resumes by `id > last_processed` and sorts by id; the simulator
        # implements neither (it sorts and compares on updated_at only). On a first run
        # last_processed is "", so the clause matches everything: it becomes an
        # always-true updated_at clause and the sort becomes updated_at. Paging
        # (starting_after) and everything else stay the tap's own.
        "streams.py": [
            (_TAP_ID_CLAUSE.format(pad=_PAD, op=">"), _TAP_ALWAYS_TRUE.format(pad=_PAD)),
            (_TAP_ID_CLAUSE.format(pad=_PAD, op="="), _TAP_ALWAYS_TRUE.format(pad=_PAD)),
            (
                '"field": "id",\n                "order": "ascending"',
                '"field": "updated_at",\n                "order": "ascending"',
            ),
        ],
    },
)
PEERS = {"airbyte": AIRBYTE, "singer": SINGER}


def install(peer: Peer, reinstall: bool) -> None:
    """A throwaway virtualenv with the published package (kept between runs)."""
    marker = peer.venv / ".installed"
    if reinstall and peer.venv.exists():
        shutil.rmtree(peer.venv)
    if marker.exists():
        return
    log(f"installing {peer.package} into {peer.venv.relative_to(REPO)} (a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", str(peer.venv)], check=True)
    pip = [str(peer.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, peer.package], check=True)
    marker.write_text(peer.version() + "\n")


def patch(peer: Peer, url: str) -> None:
    """Point the throwaway copy at `url`, always starting from the pristine file."""
    root = peer.package_dir()
    for relative, replacements in peer.patches.items():
        target = root / relative
        pristine = target.with_name(target.name + ".orig")
        if not pristine.exists():
            shutil.copy2(target, pristine)
        text = pristine.read_text()
        for old, new in replacements:
            if old not in text:
                raise RuntimeError(f"{peer.package}: {relative} no longer contains {old!r}")
            text = text.replace(old, new.format(url=url))
        target.write_text(text)
    shutil.rmtree(root / "__pycache__", ignore_errors=True)


# -- running a peer -----------------------------------------------------------------------------
class RecordCounter:
    """Counts the RECORD messages a peer writes to stdout, per stream, with their ids."""

    def __init__(self, read: Callable[[dict[str, Any]], tuple[str, Any] | None]) -> None:
        self._read = read
        self.ids: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self.records: dict[str, int] = defaultdict(int)
        self.other_lines = 0

    def __call__(self, line: str) -> None:
        if not line.startswith("{"):
            self.other_lines += 1
            return
        try:
            message = json.loads(line)
        except ValueError:
            self.other_lines += 1
            return
        found = self._read(message)
        if found is None:
            return
        stream, record_id = found
        self.records[stream] += 1
        if record_id is not None:
            self.ids[stream].add((str(record_id),))


def _airbyte_record(message: dict[str, Any]) -> tuple[str, Any] | None:
    if message.get("type") != "RECORD":
        return None
    record = message.get("record") or {}
    return record.get("stream"), (record.get("data") or {}).get("id")


def _singer_record(message: dict[str, Any]) -> tuple[str, Any] | None:
    if message.get("type") != "RECORD":
        return None
    return message.get("stream"), (message.get("record") or {}).get("id")


def discover(peer: Peer) -> tuple[Path, dict[str, Any]]:
    """The peer's config (token, start date) and its discovered catalog."""
    work = peer.venv / "run"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.json"
    settings = {"access_token": SIM_TOKEN, "start_date": START_DATE}
    if peer is SINGER:
        settings["user_agent"] = "intercom-sync benchmark"
    config.write_text(json.dumps(settings))
    if peer is AIRBYTE:
        out = _run_peer(peer, ["discover", "--config", str(config)])
        catalogs = [json.loads(line) for line in out.splitlines() if '"CATALOG"' in line]
        return config, dict(catalogs[0]["catalog"])
    return config, dict(json.loads(_run_peer(peer, ["--config", str(config), "--discover"])))


def stream_names(peer: Peer, catalog: dict[str, Any]) -> list[str]:
    key = "name" if peer is AIRBYTE else "tap_stream_id"
    return [str(s[key]) for s in catalog["streams"]]


def configured_catalog(peer: Peer, catalog: dict[str, Any], streams: set[str]) -> Path:
    """A catalog selecting exactly `streams` (full refresh: a first sync)."""
    if peer is AIRBYTE:
        chosen: dict[str, Any] = {
            "streams": [
                {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
                for s in catalog["streams"]
                if s["name"] in streams
            ]
        }
    else:
        chosen = json.loads(json.dumps(catalog))
        for stream in chosen["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] in streams
    path = peer.venv / "run" / "catalog.json"
    path.write_text(json.dumps(chosen))
    return path


def _entry_point(peer: Peer) -> Path:
    return peer.venv / "bin" / ("source-intercom" if peer is AIRBYTE else "tap-intercom")


def _run_peer(peer: Peer, args: list[str]) -> str:
    result = subprocess.run(
        [str(_entry_point(peer)), *args], capture_output=True, text=True, check=True, timeout=300
    )
    return result.stdout


def read_argv(peer: Peer, config: Path, catalog: Path) -> list[str]:
    if peer is AIRBYTE:
        return [str(_entry_point(peer)), "read", "--config", str(config), "--catalog", str(catalog)]
    return [str(_entry_point(peer)), "--config", str(config), "--catalog", str(catalog)]


# -- the comparison ---------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="small workspace, 60 s cap")
    parser.add_argument("--scale", help="workspace preset (default: medium, small if reduced)")
    parser.add_argument("--cap", type=float, help="seconds per peer (default 600; 60 reduced)")
    parser.add_argument(
        "--tools",
        default="ours,ours-airbyte,airbyte,singer",
        help="which tools to run (ours-airbyte: our source-intercom-sync, Airbyte protocol)",
    )
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="requests/min")
    parser.add_argument("--reinstall", action="store_true", help="fresh peer virtualenvs")
    return parser.parse_args()


def run(args: argparse.Namespace) -> dict[str, Any]:
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    peers = [PEERS[t] for t in tools if t in PEERS]
    cap = args.cap or (60.0 if args.reduced else 600.0)
    sim_args = SimulatorArgs(
        scale=args.scale or ("small" if args.reduced else "medium"),
        latency_ms=args.latency_ms,
        rate_limit=args.limit,
    )
    shared = set(TRUTH_STREAMS)
    catalogs: dict[str, tuple[Path, dict[str, Any]]] = {}
    for peer in peers:
        install(peer, args.reinstall)
        catalogs[peer.name] = discover(peer)
        shared &= set(stream_names(peer, catalogs[peer.name][1]))
    streams = sorted(shared, key=TRUTH_STREAMS.index)
    log(f"streams all tools share: {', '.join(streams)}")
    work = OUT / "peers"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    truth: dict[str, set[tuple[str, ...]]] = {}
    if "ours" in tools:
        results["intercom-sync"], truth = run_ours(sim_args, streams, work)
    if "ours-airbyte" in tools:
        results[OURS_AIRBYTE], truth = run_ours_airbyte(sim_args, streams, cap, work, truth)
    for peer in peers:
        config, catalog = catalogs[peer.name]
        selected = configured_catalog(peer, catalog, shared)
        results[peer.package], truth = run_peer(
            peer, sim_args, (config, selected), streams, cap, work, truth
        )
    extrapolate(results)
    return {
        "workspace": sim_args.describe(),
        "shared_streams": streams,
        "cap_seconds_per_peer": cap,
        "tools": results,
        "speedup": speedups(results),
        "target_speedup": 10,
    }


def run_ours(
    sim_args: SimulatorArgs, streams: list[str], work: Path
) -> tuple[dict[str, Any], dict[str, set[tuple[str, ...]]]]:
    store = fresh_store(work / "ours.db")
    with simulator(sim_args, work / "simulator-ours.log") as sim:
        truth = sim.truth_keys(streams)
        beyond_cap = sim.parts_beyond_cap()
        sim.reset_stats()
        log("intercom-sync: syncing the shared streams")
        measured = run_measured(
            sync_argv(sim.url, store, rate_limit=sim_args.rate_limit, streams=streams),
            env=sync_env(),
            stdout_path=work / "ours.log",
        )
        stats = sim.stats()
    copied = completeness(truth, store_keys(store, streams), beyond_cap)
    return _tool_result("intercom-sync", measured, stats, copied), truth


OURS_AIRBYTE = "source-intercom-sync"


def run_ours_airbyte(
    sim_args: SimulatorArgs,
    streams: list[str],
    cap: float,
    work: Path,
    truth: dict[str, set[tuple[str, ...]]],
) -> tuple[dict[str, Any], dict[str, set[tuple[str, ...]]]]:
    """Our Airbyte executable, run and counted exactly as the Airbyte peer is: a full-refresh
    read of the shared streams, its stdout parsed by the same counter."""
    executable = str(BIN / OURS_AIRBYTE)
    counter = RecordCounter(_airbyte_record)
    run_dir = work / "ours-airbyte"
    run_dir.mkdir(parents=True, exist_ok=True)
    with simulator(sim_args, work / "simulator-ours-airbyte.log") as sim:
        truth = truth or sim.truth_keys(streams)
        beyond_cap = sim.parts_beyond_cap()
        config = run_dir / "config.json"
        settings = {
            "access_token": SIM_TOKEN,
            "start_date": START_DATE,
            "base_url": sim.url,
            "api_rate_limit": sim_args.rate_limit,
        }
        config.write_text(json.dumps(settings))
        catalog = run_dir / "catalog.json"
        catalog.write_text(json.dumps(_full_refresh_catalog(executable, config, set(streams))))
        sim.reset_stats()
        log(f"{OURS_AIRBYTE}: reading (cap {cap:.0f} s)")
        measured = run_measured(
            [executable, "read", "--config", str(config), "--catalog", str(catalog)],
            cap_seconds=cap,
            stdout_path=work / "ours-airbyte.log",
            on_line=counter,
        )
        stats = sim.stats()
    copied = _peer_completeness(truth, counter, beyond_cap)
    result = _tool_result(OURS_AIRBYTE, measured, stats, copied)
    result["records_emitted"] = dict(counter.records)
    return result, truth


def _full_refresh_catalog(executable: str, config: Path, streams: set[str]) -> dict[str, Any]:
    out = subprocess.run(
        [executable, "discover", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    catalog = next(json.loads(line) for line in out.splitlines() if '"CATALOG"' in line)
    return {
        "streams": [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for s in catalog["catalog"]["streams"]
            if s["name"] in streams
        ]
    }


def run_peer(
    peer: Peer,
    sim_args: SimulatorArgs,
    files: tuple[Path, Path],
    streams: list[str],
    cap: float,
    work: Path,
    truth: dict[str, set[tuple[str, ...]]],
) -> tuple[dict[str, Any], dict[str, set[tuple[str, ...]]]]:
    reader = _airbyte_record if peer is AIRBYTE else _singer_record
    counter = RecordCounter(reader)
    with simulator(sim_args, work / f"simulator-{peer.name}.log") as sim:
        truth = truth or sim.truth_keys(streams)
        beyond_cap = sim.parts_beyond_cap()
        patch(peer, sim.url)
        sim.reset_stats()
        log(f"{peer.package}: reading (cap {cap:.0f} s)")
        measured = run_measured(
            read_argv(peer, *files),
            cap_seconds=cap,
            stdout_path=work / f"{peer.name}.log",
            on_line=counter,
        )
        stats = sim.stats()
    copied = _peer_completeness(truth, counter, beyond_cap)
    result = _tool_result(peer.package, measured, stats, copied)
    result["version"] = peer.version()
    result["records_emitted"] = dict(counter.records)
    return result, truth


def _peer_completeness(
    truth: dict[str, set[tuple[str, ...]]], counter: RecordCounter, beyond_cap: int
) -> dict[str, dict[str, Any]]:
    single = {s: k for s, k in truth.items() if s not in COMPOSITE_KEYED}
    out = completeness(single, counter.ids, beyond_cap)
    for stream in COMPOSITE_KEYED & set(truth):
        total, got = len(truth[stream]), counter.records.get(stream, 0)
        out[stream] = stream_completeness(total, min(got, total), max(0, got - total), 0)
        out[stream]["matched_by"] = "count (composite key)"
    return out


def _tool_result(
    name: str, measured: Any, stats: dict[str, Any], copied: dict[str, Any]
) -> dict[str, Any]:
    copied_records = sum(c["copied"] for c in copied.values())
    truth_records = sum(c["truth"] - c["unreachable_in_one_sync"] for c in copied.values())
    return {
        "tool": name,
        **measured.to_dict(),
        "requests": stats["total_requests"],
        "responses_429": stats["too_many_requests"],
        "max_in_flight": stats["max_in_flight"],
        "requests_per_second": round(stats["total_requests"] / measured.wall_seconds, 2),
        "completeness": copied,
        "copied_records": copied_records,
        "truth_records": truth_records,  # what one sync can read (parts beyond the cap excluded)
        "complete_copy": copied_records == truth_records,
    }


def extrapolate(results: dict[str, Any]) -> None:
    """An incomplete peer's full time (stopped at the cap, or failed part-way): the requests
    we needed for the same streams at the peer's own observed rate (labelled; a lower bound
    if it needs more requests than we do)."""
    ours = results.get("intercom-sync")
    for name, result in results.items():
        if name == "intercom-sync" or result["complete_copy"]:
            result["full_time_seconds"] = result["wall_seconds"]
            result["full_time_basis"] = "measured"
            continue
        why = "stopped at the cap" if result["capped"] else f"exited {result['exit_code']} early"
        needed = ours["requests"] if ours else None
        rate = result["requests_per_second"]
        if needed and rate:
            result["full_time_seconds"] = round(needed / rate, 1)
            result["full_time_basis"] = (
                f"EXTRAPOLATED ({why}, copy incomplete): {needed:,} requests (what "
                f"intercom-sync needed for these streams) at the {rate:.2f} requests/s it "
                "sustained"
            )
        else:
            result["full_time_seconds"] = None
            result["full_time_basis"] = "unknown (no requests observed)"


def speedups(results: dict[str, Any]) -> dict[str, Any]:
    """Each peer's full time over ours: our CLI sync, and our Airbyte executable (the same
    runner as the Airbyte peer's)."""
    out: dict[str, Any] = {}
    for base in ("intercom-sync", OURS_AIRBYTE):
        ours = results.get(base)
        if not ours:
            continue
        for name, result in results.items():
            if name not in ("intercom-sync", OURS_AIRBYTE) and result.get("full_time_seconds"):
                factor = round(result["full_time_seconds"] / ours["wall_seconds"], 1)
                out[name if base == "intercom-sync" else f"{name} vs {base}"] = factor
    return out


def report(result: dict[str, Any]) -> None:
    print()
    header = f"{'tool':<26}{'wall s':>9}{'full s':>10}{'CPU s':>8}{'RSS MB':>8}"
    print(header + f"{'requests':>10}{'req/s':>8}{'429s':>6}{'copied':>18}")
    for name, r in result["tools"].items():
        full = r["full_time_seconds"]
        mark = "*" if r["full_time_basis"].startswith("EXTRAPOLATED") else " "
        copied = f"{r['copied_records']:,}/{r['truth_records']:,}"
        print(
            f"{name:<26}{r['wall_seconds']:>9.1f}{(full or 0):>9.0f}{mark}{r['cpu_seconds']:>8.1f}"
            f"{r['peak_rss_mb']:>8.0f}{r['requests']:>10,}{r['requests_per_second']:>8.1f}"
            f"{r['responses_429']:>6}{copied:>18}"
        )
    print("* extrapolated from what the peer did within the cap (see full_time_basis)")
    for name, factor in result["speedup"].items():
        peer, _, ours = name.partition(" vs ")
        print(f"{ours or 'intercom-sync'} vs {peer}: {factor}x faster (target ≥ 10x)")


def main() -> None:
    result = run(parse_args())
    report(result)
    write_result("peers", result)


if __name__ == "__main__":
    main()
