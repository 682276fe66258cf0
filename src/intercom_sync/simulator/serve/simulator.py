"""`Simulator`: a seeded Intercom workspace behind the simulated REST API.

The object tests, benchmarks and the demo hold: it builds the world, the ASGI
app and its shared runtime, hands out in-process transports, and lets callers
change quirks, faults, limits and tokens while it serves.

    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("small")))
    async with sim.client() as http:
        (await http.get("/admins")).json()
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from intercom_sync.clock import Clock, ManualClock
from intercom_sync.simulator.api.app import build_app
from intercom_sync.simulator.api.gateway import ASGIApp
from intercom_sync.simulator.api.runtime import Runtime
from intercom_sync.simulator.api.spec import (
    DEFAULT_TOKEN,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    SimulatorConfig,
    TokenSpec,
)
from intercom_sync.simulator.api.stats import SimStats
from intercom_sync.simulator.api.truth import ground_truth
from intercom_sync.simulator.serve.transport import SimulatorTransport
from intercom_sync.simulator.world.mutations import Mutator
from intercom_sync.simulator.world.world import World

# The host in-process clients use; any host works, this one reads well in URLs.
IN_PROCESS_BASE_URL = "http://intercom.sim"


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock: Clock = clock or ManualClock(float(self.config.world.now))
        self.world: World = World.build(self.config.world, self.clock)
        self.runtime = Runtime(self.config, self.world, self.clock)
        self.app: ASGIApp = build_app(self.runtime)

    @property
    def mutator(self) -> Mutator:
        return self.runtime.mutator

    @property
    def stats(self) -> SimStats:
        return self.runtime.stats

    @property
    def quirks(self) -> Quirks:
        return self.runtime.quirks

    @property
    def faults(self) -> FaultSpec:
        return self.runtime.faults.spec

    @property
    def rate_limit(self) -> RateLimitSpec:
        return self.runtime.limiter.spec

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport: no sockets, but faults surface as over one."""
        return SimulatorTransport(self.app)

    def client(
        self,
        token: str = DEFAULT_TOKEN,
        api_version: str | None = None,
        **kwargs: Any,
    ) -> httpx.AsyncClient:
        """An `httpx.AsyncClient` on `transport()` with the bearer token (and version) set."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if api_version is not None:
            headers["Intercom-Version"] = api_version
        headers.update(kwargs.pop("headers", {}))
        return httpx.AsyncClient(
            transport=self.transport(), base_url=IN_PROCESS_BASE_URL, headers=headers, **kwargs
        )

    def truth(self, api_version: str = "2.11") -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
        """Exactly what a perfect copy of the workspace, served with the current quirks,
        holds now."""
        return ground_truth(self.world, api_version, self.runtime.quirks)

    def set_faults(self, faults: FaultSpec) -> None:
        self.runtime.set_faults(faults)

    def set_quirks(self, quirks: Quirks | None = None, **changes: Any) -> None:
        """Replace the quirks, or change some of them: `set_quirks(search_lag_seconds=0)`."""
        base = quirks or self.runtime.quirks
        self.runtime.set_quirks(_replace(base, changes))

    def set_rate_limit(self, rate_limit: RateLimitSpec | None = None, **changes: Any) -> None:
        base = rate_limit or self.runtime.limiter.spec
        self.runtime.set_rate_limit(_replace(base, changes))

    def add_token(self, token: str, spec: TokenSpec | None = None) -> None:
        self.runtime.add_token(token, spec or TokenSpec())


def _replace(base: Any, changes: dict[str, Any]) -> Any:
    return replace(base, **changes) if changes else base
