"""The simulator as the rest of the project sees it: the one module tests, benchmarks and
the product import.

    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("small")))
    async with sim.client() as http:            # in process, no sockets
        (await http.get("/admins")).json()
    server = serve_in_thread(sim)                # or over loopback HTTP
    sim.truth()                                  # what a perfect copy holds now

The boundary: the product never imports the simulator to do its work (only `demo` runs
one, and the `simulate` command is registered from here); the simulator depends on
nothing of the product but `intercom_sync.clock`, and talks to it only over HTTP, so a
sync against it exercises exactly what a sync against Intercom does. Everything else
under `intercom_sync.simulator` is its inside, reached only by the simulator's own unit
tests. (`intercom_sync.cli` takes `simulate` from `serve.cli` directly: that module
imports the simulator only when the command runs, so the CLI starts without loading it.)
"""

from __future__ import annotations

from intercom_sync.simulator.api.spec import (
    DEFAULT_TOKEN,
    SCOPES,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    SimulatorConfig,
    TokenSpec,
)
from intercom_sync.simulator.api.truth import (
    STREAMS,
    ground_truth,
    ground_truth_edges,
    part_conversation_ids,
    stream_truth,
)
from intercom_sync.simulator.serve.cli import simulate
from intercom_sync.simulator.serve.server import RunningServer, serve_in_thread
from intercom_sync.simulator.serve.simulator import IN_PROCESS_BASE_URL, Simulator
from intercom_sync.simulator.world.spec import DAY, PRESETS, WorldSpec

__all__ = [
    "DAY",
    "DEFAULT_TOKEN",
    "IN_PROCESS_BASE_URL",
    "PRESETS",
    "SCOPES",
    "STREAMS",
    "FaultSpec",
    "Quirks",
    "RateLimitSpec",
    "RunningServer",
    "Simulator",
    "SimulatorConfig",
    "TokenSpec",
    "WorldSpec",
    "ground_truth",
    "ground_truth_edges",
    "part_conversation_ids",
    "serve_in_thread",
    "simulate",
    "stream_truth",
]
