"""Run the dashboard with uvicorn: what `serve` and `demo` call.

Uvicorn's access log is off: it would print query strings, and `?token=` is one.
The app logs method, path and status itself.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from intercom_sync.clock import Clock
from intercom_sync.metrics.model import Config
from intercom_sync.metrics.view import INBOX_HOSTS
from intercom_sync.store.base import Store
from intercom_sync.web.app import create_app
from intercom_sync.web.background import SyncFn

logger = logging.getLogger("intercom_sync.web")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class DashboardServer:
    """A dashboard listening on a socket; `url` is where it answers."""

    server: uvicorn.Server
    sock: socket.socket
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def bind_socket(host: str, port: int) -> socket.socket:
    """Claim `host:port` (0 picks a free port) without listening yet; raises OSError when
    it is taken. `demo` claims its port before a long sync, so a taken port fails at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def prepare_server(
    store: Store,
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    clock: Clock | None = None,
    auth_token: str | None = None,
    sync_fn: SyncFn | None = None,
    sync_every: float | None = None,
    sock: socket.socket | None = None,
    inbox: str = INBOX_HOSTS["us"],
) -> DashboardServer:
    """Bind the socket (port 0 picks a free one; or take `sock`, already bound) and build
    the server, not yet running."""
    app = create_app(
        store,
        config,
        clock=clock,
        auth_token=auth_token,
        sync_fn=sync_fn,
        sync_every=sync_every,
        inbox=inbox,
    )
    sock = sock or bind_socket(host, port)
    sock.listen()  # accept (queue) connections from the moment the URL is known
    uv_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    return DashboardServer(uvicorn.Server(uv_config), sock, host, sock.getsockname()[1])


def run_forever(dashboard: DashboardServer) -> None:
    """Serve until interrupted (Ctrl-C)."""
    try:
        dashboard.server.run(sockets=[dashboard.sock])
    finally:
        dashboard.sock.close()


def run_in_thread(dashboard: DashboardServer) -> Callable[[], None]:
    """Serve from a daemon thread; returns a function that stops it (tests, the demo)."""
    thread = threading.Thread(
        target=dashboard.server.run, kwargs={"sockets": [dashboard.sock]}, daemon=True
    )
    thread.start()
    ready = threading.Event()
    while not dashboard.server.started and thread.is_alive():
        ready.wait(0.01)

    def stop() -> None:
        dashboard.server.should_exit = True
        thread.join(timeout=10)
        dashboard.sock.close()

    return stop
