"""What every benchmark shares: the machine, a simulator in its own process, a measured
child process, the ground truth, and where results go.

Benchmarks are run as scripts (`.venv/bin/python bench/<name>.py`), so this module is
imported from the script's own directory; it is not part of the installed package.
Importing it also puts the repository root on `sys.path`, so a benchmark can use the test
suite's data generators (`tests.synthetic`) the way the tests do: they live under `tests/`,
not in the product.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
# Results and work files; BENCH_OUT moves them (e.g. a reduced run beside a full one).
OUT = Path(os.environ.get("BENCH_OUT") or REPO / "bench" / "out")
BIN = Path(sys.executable).parent
SIM_TOKEN = "sim-token-0123456789abcdef"  # noqa: S105 - the simulator's fake default token
# 80–150 ms asked for; the simulator's jitter mode draws uniformly in [0.5, 1.5] × median,
# so a 115 ms median gives 57–172 ms around the same mean (a slightly harder spread).
DEFAULT_LATENCY_MS = 115.0
DEFAULT_LIMIT = 10_000


# -- the machine ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was when they were."""
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_model": _lscpu_field("Model name") or platform.processor() or "unknown",
        "nproc": os.cpu_count(),
        "memory_gb": round(_mem_total_kb() / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "git_commit": _git_commit(),
    }


def _lscpu_field(name: str) -> str | None:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _mem_total_kb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _git_commit() -> str | None:
    result = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


# -- results ----------------------------------------------------------------------------------
def write_result(name: str, result: dict[str, Any]) -> Path:
    """`bench/out/<name>.json` with the machine attached; returns the path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), "command": _command(), **result}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"result written to {path}")
    return path


def _command() -> str:
    script = Path(sys.argv[0])
    with suppress(ValueError):
        script = script.resolve().relative_to(REPO)
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the simulator in its own process ----------------------------------------------------------
@dataclass
class SimulatorArgs:
    scale: str = "medium"
    latency_ms: float = DEFAULT_LATENCY_MS
    jitter: bool = True
    rate_limit: int = DEFAULT_LIMIT
    counts: dict[str, int] = field(default_factory=dict)  # --contacts 1000 …
    seed: int = 1

    def argv(self) -> list[str]:
        argv = [
            str(BIN / "intercom-sync"),
            "simulate",
            "--port",
            "0",
            "--seed",
            str(self.seed),
            "--scale",
            self.scale,
            "--rate-limit",
            str(self.rate_limit),
            "--workspace-rate-limit",  # Intercom's 25,000/min, or the app's if higher
            str(max(25_000, self.rate_limit)),
            "--latency-ms",
            str(self.latency_ms),
        ]
        if self.jitter and self.latency_ms > 0:
            argv += ["--faults", "latency_mode=jitter"]
        for name, value in self.counts.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        return argv

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class SimulatorProcess:
    """`intercom-sync simulate` in a child process; `url` once it listens."""

    def __init__(self, args: SimulatorArgs, log_path: Path) -> None:
        self.args = args
        self._log = log_path.open("w")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            args.argv(), stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=REPO
        )
        self.url = self._read_url()
        self.startup_seconds = time.perf_counter() - started

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            match = re.search(r"base URL:\s+(\S+)", line)
            if match:
                threading.Thread(target=self._drain, daemon=True).start()
                return match.group(1)
        raise RuntimeError(f"the simulator exited before serving (see {self._log.name})")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)

    def get(self, path: str, timeout: float = 600.0) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL we started
            f"{self.url}{path}", data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return dict(self.get("/_sim/stats"))

    def reset_stats(self) -> None:
        self.post("/_sim/stats/reset")

    def truth_keys(self, streams: Sequence[str]) -> dict[str, set[tuple[str, ...]]]:
        """Primary keys of every record a perfect copy holds, per stream (one at a time:
        the parts of a large workspace are a big answer)."""
        out: dict[str, set[tuple[str, ...]]] = {}
        for stream in streams:
            rows = self.get(f"/_sim/truth?stream={stream}")[stream]
            out[stream] = {tuple(str(k) for k in row["key"]) for row in rows}
        return out

    def parts_beyond_cap(self, cap: int = 500) -> int:
        """Parts no tool can read in one sync: GET /conversations/{id} returns only the
        `cap` most recent parts of a conversation (the ground truth has them all)."""
        rows = self.get("/_sim/truth?stream=conversations")["conversations"]
        counts = [
            (row["record"].get("statistics") or {}).get("count_conversation_parts") for row in rows
        ]
        return sum(max(0, int(n or 0) - cap) for n in counts)

    def rss_mb(self) -> float:
        return _rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextmanager
def simulator(args: SimulatorArgs, log_path: Path) -> Iterator[SimulatorProcess]:
    log(f"starting the simulator: {' '.join(args.argv()[1:])}")
    sim = SimulatorProcess(args, log_path)
    log(f"simulator at {sim.url} after {sim.startup_seconds:.1f} s")
    try:
        yield sim
    finally:
        sim.stop()


def _high_water_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# -- a measured child process --------------------------------------------------------------
@dataclass
class Measured:
    """Wall time, CPU time (`wait4`) and peak RSS (`VmHWM`) of one child process."""

    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_mb: float
    exit_code: int | None
    capped: bool

    @property
    def cpu_seconds(self) -> float:
        return self.cpu_user_seconds + self.cpu_system_seconds

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_seconds": round(self.cpu_seconds, 2)}


def run_measured(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cap_seconds: float | None = None,
    stdout_path: Path,
    on_line: Callable[[str], None] | None = None,
    cwd: Path | None = None,
) -> Measured:
    """Run `argv` to the end or until `cap_seconds`, then SIGTERM (SIGKILL 10 s later).

    CPU time and peak RSS are the kernel's figures for that process (`wait4`, `VmHWM`),
    so they count nothing of the benchmark itself. With `on_line`, stdout is streamed through it
    line by line (peers' records); otherwise it goes to `stdout_path`.
    """
    full_env = {**os.environ, **(env or {})}
    with stdout_path.open("w") as sink, stdout_path.with_suffix(".err").open("w") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE if on_line else sink,
            stderr=errors,
            env=full_env,
            cwd=cwd or REPO,
            text=True,
            bufsize=1,
        )
        reader = _stream_lines(proc, on_line, sink) if on_line else None
        capped, status, usage, peak_kb = _wait(proc, started, cap_seconds)
        wall = time.perf_counter() - started
        if reader is not None:
            reader.join(30)
    exit_code = os.waitstatus_to_exitcode(status)
    return Measured(
        wall_seconds=round(wall, 2),
        cpu_user_seconds=round(usage.ru_utime, 2),
        cpu_system_seconds=round(usage.ru_stime, 2),
        peak_rss_mb=round(peak_kb / 1024, 1),
        exit_code=exit_code,
        capped=capped,
    )


def _stream_lines(
    proc: subprocess.Popen[str], on_line: Callable[[str], None], sink: Any
) -> threading.Thread:
    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line)
            if '"RECORD"' not in line:  # logs and errors are kept, records only counted
                sink.write(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def _wait(
    proc: subprocess.Popen[str], started: float, cap: float | None
) -> tuple[bool, int, Any, int]:
    """Wait for the child, stopping it at `cap`; also returns its peak RSS in kB.

    The peak is the largest `VmHWM` read from /proc while it runs, not `ru_maxrss`: on
    Linux a forked child inherits its parent's high-water mark across exec, so a
    benchmark holding the ground truth in memory would be charged to the tool."""
    capped = False
    term_at: float | None = None
    peak_kb = 0
    while True:
        peak_kb = max(peak_kb, _high_water_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return capped, status, usage, peak_kb
        elapsed = time.perf_counter() - started
        if cap is not None and not capped and elapsed >= cap:
            capped, term_at = True, elapsed
            os.kill(proc.pid, signal.SIGTERM)
        elif term_at is not None and elapsed - term_at > 10:
            os.kill(proc.pid, signal.SIGKILL)
            term_at = None
        time.sleep(0.05)


# -- our own sync -----------------------------------------------------------------------------
def sync_argv(
    url: str,
    store: Path,
    *,
    rate_limit: int,
    streams: Sequence[str] = (),
    full: bool = True,
    command: str = "sync",
) -> list[str]:
    argv = [
        str(BIN / "intercom-sync"),
        command,
        "--store",
        f"sqlite:///{store}",
        "--base-url",
        url,
    ]
    if command == "sync":
        argv += ["--rate-limit", str(rate_limit)]
        if full:
            argv.append("--full")
    if streams:
        argv += ["--streams", ",".join(streams)]
    return argv


def sync_env() -> dict[str, str]:
    return {"INTERCOM_ACCESS_TOKEN": SIM_TOKEN, "COLUMNS": "120", "TERM": "dumb"}


def fresh_store(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def store_keys(db: Path, streams: Sequence[str]) -> dict[str, set[tuple[str, ...]]]:
    """Primary keys of the live (not deleted) rows our store holds, per stream."""
    from intercom_sync.store.schema import RAW_TABLES

    out: dict[str, set[tuple[str, ...]]] = {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for stream in streams:
            table = RAW_TABLES[stream]
            cols = ", ".join(table.key_names)
            rows = conn.execute(f"SELECT {cols} FROM {stream} WHERE deleted_at IS NULL")  # noqa: S608
            out[stream] = {tuple(str(v) for v in row) for row in rows}
    finally:
        conn.close()
    return out


def last_run_streams(db: Path) -> dict[str, dict[str, Any]]:
    """Per stream, what the store's last recorded run did (requests, check_requests, …)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT streams FROM _sync_runs ORDER BY started_at DESC, run_id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return dict(json.loads(row[0])) if row else {}


def counting_share(db: Path) -> dict[str, Any]:
    """How many of the last run's requests went to checking the copy against Intercom's
    counts (the counts themselves and the re-reads of what disagreed), per search stream
    and in all."""
    streams = last_run_streams(db)
    checks = {
        name: int(s["check_requests"]) for name, s in streams.items() if "check_requests" in s
    }
    total = sum(int(s.get("requests") or 0) for s in streams.values())
    return {
        "check_requests": checks,
        "check_requests_total": sum(checks.values()),
        "requests_total": total,
        "share": round(sum(checks.values()) / total, 5) if total else 0.0,
    }


def completeness(
    truth: dict[str, set[tuple[str, ...]]],
    copied: dict[str, set[tuple[str, ...]]],
    parts_beyond_cap: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per stream: records in the truth, how many of them were copied, and the fraction of
    what the API lets a first sync read (for parts: the truth less those beyond the cap)."""
    out: dict[str, dict[str, Any]] = {}
    for stream, keys in truth.items():
        got = copied.get(stream, set())
        out[stream] = stream_completeness(
            len(keys), len(keys & got), len(got - keys), _unreachable(stream, parts_beyond_cap)
        )
    return out


def stream_completeness(truth: int, copied: int, extra: int, unreachable: int) -> dict[str, Any]:
    reachable = truth - unreachable
    return {
        "truth": truth,
        "copied": copied,
        "extra": extra,
        "unreachable_in_one_sync": unreachable,
        "fraction": round(copied / reachable, 4) if reachable else 1.0,
    }


def _unreachable(stream: str, parts_beyond_cap: int) -> int:
    return parts_beyond_cap if stream == "conversation_parts" else 0


def floor_seconds(requests: int, per_minute: int) -> float:
    """The least time `requests` can take under a `per_minute` limit."""
    return requests / (per_minute / 60.0)
