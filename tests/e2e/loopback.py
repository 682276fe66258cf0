"""A simulator served on 127.0.0.1 and the real CLI run against it in a subprocess."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from intercom_sync.clock import OffsetClock
from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    RunningServer,
    Simulator,
    SimulatorConfig,
    WorldSpec,
    serve_in_thread,
)


@dataclass
class Loopback:
    sim: Simulator
    server: RunningServer
    clock: OffsetClock

    @property
    def base_url(self) -> str:
        return self.server.base_url


@contextmanager
def loopback_simulator(
    spec: WorldSpec,
    *,
    faults: FaultSpec | None = None,
    rate_limit: RateLimitSpec | None = None,
    quirks: Quirks | None = None,
) -> Iterator[Loopback]:
    clock = OffsetClock(offset=spec.now - time.time())
    config = SimulatorConfig(
        world=spec,
        faults=faults or FaultSpec(),
        rate_limit=rate_limit or RateLimitSpec(enabled=False),
        quirks=quirks or Quirks(),
    )
    sim = Simulator(config, clock=clock)
    server = serve_in_thread(sim)
    try:
        yield Loopback(sim, server, clock)
    finally:
        server.stop()


def sync_args(lb: Loopback, db: Path) -> list[str]:
    """`sync` against the served simulator into the SQLite store at `db`."""
    return ["sync", "--base-url", lb.base_url, "--store", f"sqlite:///{db}"]


def cli_env(token: str = DEFAULT_TOKEN, **settings: str) -> dict[str, str]:
    """The environment of a CLI run: the token, a fast budget, and any INTERCOM_SYNC_* keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERCOM_")}
    env.update(
        {
            "INTERCOM_ACCESS_TOKEN": token,
            "INTERCOM_SYNC_SEARCH_LAG_SECONDS": "120",
            "INTERCOM_SYNC_START_DATE": "2015-01-01T00:00:00Z",
            "INTERCOM_SYNC_API_RATE_LIMIT": "600000",
            "INTERCOM_SYNC_MEMBERSHIP_REFRESH": "every run",
            "COLUMNS": "160",
        }
    )
    env.update({f"INTERCOM_SYNC_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "intercom_sync", *args]


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_error_line(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> str:
    """Exactly one line on stderr, `error: …`, naming every needle; the exit code; no
    traceback anywhere."""
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def lines_of(stream: object) -> queue.Queue[str]:
    """Read a pipe in a thread so the test can wait for a line with a timeout."""
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def wait_for_dashboard_url(output: queue.Queue[str], proc: subprocess.Popen[str]) -> str:
    seen = []
    while True:
        try:
            line = output.get(timeout=120)
        except queue.Empty:
            pytest.fail(f"no dashboard URL printed; exit {proc.poll()}; output: {seen}")
        seen.append(line)
        match = re.search(r"Dashboard:\s+(http://127\.0\.0\.1:\d+/)", line)
        if match:
            return match.group(1)


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Ctrl-C a served command, as a user stops it (killed if it does not stop)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()
