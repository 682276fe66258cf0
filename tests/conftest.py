"""Shared fixtures. Keep them generic: many test files use them.

* `tiny_sim` — a fresh `Simulator` on the `tiny` preset with a `ManualClock`
  (function scope: tests may mutate it, change quirks or faults).
* `sim_client` — an `httpx.AsyncClient` talking to `tiny_sim` in-process, with the
  default token.
* `small_sim_readonly` — one `small` simulator for the whole session; tests must
  not change it (no mutations, quirk or fault changes).
* `postgres_url` — a throwaway PostgreSQL cluster per test module (`tests/postgres.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.postgres import postgres_url  # noqa: F401 - a fixture, shared

if TYPE_CHECKING:  # imported lazily so a broken simulator cannot break unrelated test files
    from intercom_sync.simulator.service import Simulator


def _simulator(preset: str) -> Simulator:
    from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec

    return Simulator(SimulatorConfig(world=WorldSpec.preset(preset)))


@pytest.fixture
def tiny_sim() -> Simulator:
    return _simulator("tiny")


@pytest.fixture
async def sim_client(tiny_sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with tiny_sim.client() as client:
        yield client


@pytest.fixture(scope="session")
def small_sim_readonly() -> Simulator:
    return _simulator("small")
