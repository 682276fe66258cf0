"""A simulator served on 127.0.0.1 and the real CLI run against it in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from intercom_sync.clock import OffsetClock
from intercom_sync.simulator.server import RunningServer, serve_in_thread
from intercom_sync.simulator.service import Simulator
from intercom_sync.simulator.spec import (
    DEFAULT_TOKEN,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    SimulatorConfig,
    WorldSpec,
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
