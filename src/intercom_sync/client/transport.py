"""Keep-alive connections to one host, in several small pools instead of one large one.

httpcore's connection pool re-examines EVERY connection it holds whenever a request
starts or ends: each idle one is asked whether the server closed it (a `getpeername` and
a `poll` system call through anyio), and counting the idle ones is quadratic in the pool
size. With the 40–64 connections a sync keeps open at 150 ms latency, that bookkeeping
cost more CPU than parsing and storing the responses (profiled at ~20 % of the sync
process). Pools of at most `PER_POOL` connections keep it small; each request goes to the
pool with the fewest requests in flight, so no request waits for a connection while
another pool has one free. Connections are still reused across requests as before.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Sequence

import httpx

PER_POOL = 8


class ShardedTransport(httpx.AsyncBaseTransport):
    """Routes each request to the least busy of several transports."""

    def __init__(self, pools: Sequence[httpx.AsyncBaseTransport]) -> None:
        if not pools:
            raise ValueError("at least one pool is needed")
        self._pools = list(pools)
        self._busy = [0] * len(self._pools)

    @classmethod
    def for_connections(cls, connections: int, *, per_pool: int = PER_POOL) -> ShardedTransport:
        """`connections` keep-alive connections in pools of at most `per_pool` each, sharing
        one TLS context (loading the CA bundle costs ~15 ms per context)."""
        count = max(1, math.ceil(connections / per_pool))
        size = max(1, math.ceil(connections / count))
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        tls = httpx.create_ssl_context()  # honours SSL_CERT_FILE / SSL_CERT_DIR like httpx
        return cls([httpx.AsyncHTTPTransport(verify=tls, limits=limits) for _ in range(count)])

    @property
    def busy(self) -> list[int]:
        """Requests in flight per pool (a response counts until its body is closed)."""
        return list(self._busy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        response.stream = _ReleasingStream(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that frees its pool's slot once, when it is closed."""

    def __init__(
        self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, release: Callable[[], None]
    ) -> None:
        if not isinstance(inner, httpx.AsyncByteStream):
            raise TypeError("an async transport returned a synchronous body")
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
