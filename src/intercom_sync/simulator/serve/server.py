"""Serve a simulator over loopback HTTP with uvicorn (benchmarks, e2e tests, the demo).

Use an `OffsetClock` for a served simulator: rate-limit windows then pass in
real time, and `POST /_sim/clock {"advance": s}` still jumps past search lag or
scroll expiry without waiting.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from intercom_sync.simulator.api.gateway import SimulatedDisconnect
from intercom_sync.simulator.serve.simulator import Simulator

_STARTUP_TIMEOUT = 15.0


class _HideInjectedDisconnects(logging.Filter):
    """uvicorn logs an app exception as an error; an injected connection drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDisconnect)


def _config(sim: Simulator, log_level: str) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_HideInjectedDisconnects())
    return uvicorn.Config(
        sim.app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        date_header=False,  # the simulator sends Date from its own clock
        server_header=False,
        timeout_keep_alive=30,
    )


@dataclass
class RunningServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve_in_thread(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> RunningServer:
    """Start serving in a background thread; returns once the socket accepts connections."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(sim, log_level))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="intercom-sim", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the simulator's HTTP server did not start")
        time.sleep(0.01)
    return RunningServer(_base_url(host, sock), server, thread)


def serve(
    sim: Simulator,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C). `announce` gets the base URL
    once the socket is bound (useful with port 0)."""
    sock = _bind(host, port)
    if announce is not None:
        announce(_base_url(host, sock))
    uvicorn.Server(_config(sim, log_level)).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket. The explicit IPPROTO_TCP matters: asyncio sets TCP_NODELAY only
    on sockets whose `proto` says TCP, and without it every response waits ~40 ms for a
    delayed ACK (Nagle), capping a connection at ~25 requests a second."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listen now, so a client told the URL early queues instead of being refused.
    sock.listen(2048)
    return sock


def _base_url(host: str, sock: socket.socket) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{sock.getsockname()[1]}"
