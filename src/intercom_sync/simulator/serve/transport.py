"""An in-process httpx transport to the simulator that fails like a socket would.

httpx's ASGI transport runs the app in the caller's event loop. This wrapper
turns the simulator's injected connection drop into `httpx.ReadError`, the
error a client sees when a peer resets the connection, so retry logic is
exercised exactly as over the network. Truncated and corrupted bodies need no
help: they arrive as short or invalid bodies.
"""

from __future__ import annotations

import httpx

from intercom_sync.simulator.api.gateway import ASGIApp, SimulatedDisconnect


class SimulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except SimulatedDisconnect:
            raise httpx.ReadError("connection reset by peer", request=request) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()
