"""`intercom-sync demo`: the whole product on a simulated workspace, no token needed.

Starts the simulator on 127.0.0.1 (its own thread, real rate limits), syncs it into
`./demo.db` exactly as a real sync would, and shows what the store now holds.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from intercom_sync.clock import Clock, OffsetClock
from intercom_sync.commands.common import EXIT_USAGE, fail, load
from intercom_sync.commands.sync_cmd import run_sync
from intercom_sync.engine.sync import SyncOutcome
from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    RunningServer,
    Simulator,
    SimulatorConfig,
    WorldSpec,
    serve_in_thread,
)
from intercom_sync.store import open_store

_EXAMPLE_QUERY = "SELECT state, count(*) FROM conversations GROUP BY state"
DEMO_HOST = "127.0.0.1"


def start_demo_simulator(scale: str, seed: int) -> tuple[Simulator, RunningServer]:
    # The workspace's history ends at this moment, so the dashboard's default view is full
    # and every age it shows is measured against real time.
    spec = WorldSpec.preset(scale, seed=seed, now=int(time.time()))
    # The simulated clock starts at the generated world's "now" and runs in real time,
    # so the rate limit's 10-second windows pass as they would against Intercom.
    clock = OffsetClock(offset=spec.now - time.time())
    sim = Simulator(SimulatorConfig(world=spec), clock=clock)
    return sim, serve_in_thread(sim)


def run_demo(
    console: Console, *, store_path: Path, scale: str, seed: int, full: bool
) -> tuple[SyncOutcome, Clock]:
    """Sync a simulated workspace into `store_path`; returns the outcome and the
    simulation's clock (the dashboard shows the demo data as of simulated "now")."""
    console.print(
        f"[bold]intercom-sync demo[/] — simulating a [cyan]{scale}[/] workspace (seed {seed})"
    )
    sim, server = start_demo_simulator(scale, seed)
    try:
        console.print(f"Simulated Intercom API at {server.base_url}")
        with tempfile.TemporaryDirectory() as empty:  # ignore any ./intercom-sync.toml
            settings = load(
                None,
                {
                    # The simulator's well-known token: a literal, since it guards nothing.
                    "access_token": DEFAULT_TOKEN,
                    "base_url": server.base_url,
                    "store_url": f"sqlite:///{store_path}",
                    "search_lag_seconds": sim.quirks.search_lag_seconds,
                },
                cwd=empty,
            )
        outcome = run_sync(settings, full=full, console=console)
    finally:
        server.stop()
    show_store(console, store_path)
    return outcome, sim.clock


def show_store(console: Console, store_path: Path) -> None:
    store = open_store(f"sqlite:///{store_path}")
    try:
        table = Table(title=f"What {store_path} holds", title_justify="left")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name in (
            "admins",
            "teams",
            "contacts",
            "companies",
            "conversations",
            "conversation_parts",
            "tickets",
            "activity_logs",
            "entities",
            "events",
            "metrics",
            "edges",
        ):
            count = store.query(f"SELECT count(*) FROM {name}")[0][0]  # noqa: S608
            table.add_row(name, f"{count:,}")
        console.print(table)
        by_state = store.query(
            "SELECT state, count(*) FROM conversations WHERE deleted_at IS NULL "
            "GROUP BY state ORDER BY 2 DESC"
        )
        console.print("Conversations by state: " + ", ".join(f"{s} {n:,}" for s, n in by_state))
    finally:
        store.close()
    console.print(f"\nStore: [bold]{store_path.resolve()}[/]")
    console.print("Query it with SQL, for example:")
    console.print(f'  sqlite3 {store_path} "{_EXAMPLE_QUERY}"')
    console.print(f"  intercom-sync status --store sqlite:///{store_path}")


def claim_port(port: int) -> socket.socket:
    """Bind the dashboard's port on 127.0.0.1 now, or fail with one line."""
    from intercom_sync.web.server import bind_socket

    try:
        return bind_socket(DEMO_HOST, port)
    except OSError as error:
        fail(
            f"cannot serve the dashboard on {DEMO_HOST}:{port}: {error.strerror or error}; "
            "pass a free --port (0 picks one), or --no-serve",
            EXIT_USAGE,
        )


def serve_demo_dashboard(
    console: Console, store_path: Path, clock: Clock, sock: socket.socket
) -> None:
    """Serve the support dashboard over the demo store, on the claimed socket, until
    Ctrl-C."""
    from intercom_sync.metrics.support import support_config
    from intercom_sync.web.server import prepare_server, run_forever

    store = open_store(f"sqlite:///{store_path}")
    try:
        dashboard = prepare_server(store, support_config(), host=DEMO_HOST, clock=clock, sock=sock)
        console.print(
            f"\n[bold]Dashboard:[/] {dashboard.url}  (JSON API: {dashboard.url}api/dashboards)"
        )
        console.print("Press Ctrl-C to stop.")
        run_forever(dashboard)
    finally:
        store.close()
