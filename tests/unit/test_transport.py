"""Several small connection pools behind one transport: each request goes to the least
busy pool, and a pool's slot is freed when the response body is closed."""

from __future__ import annotations

import httpx
import orjson
import pytest

from intercom_sync.client.transport import ShardedTransport


class Body(httpx.AsyncByteStream):
    """A body read from the network: open until read to the end or closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.data


def pool(name: str, seen: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(name)
        body = orjson.dumps({"pool": name, "path": request.url.path})
        return httpx.Response(200, stream=Body(body))

    return httpx.MockTransport(handle)


async def test_requests_spread_over_the_least_busy_pools_and_free_on_close() -> None:
    seen: list[str] = []
    transport = ShardedTransport([pool("a", seen), pool("b", seen), pool("c", seen)])
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        held = [await client.send(client.build_request("GET", "/x"), stream=True) for _ in range(4)]
        assert seen == ["a", "b", "c", "a"]
        assert transport.busy == [2, 1, 1]
        await held[1].aclose()
        assert transport.busy == [2, 0, 1]
        response = await client.get("/y")  # read and closed at once
        assert response.json() == {"pool": "b", "path": "/y"}
        assert transport.busy == [2, 0, 1]
        for r in held:
            await r.aclose()  # closing twice frees nothing twice
        assert transport.busy == [0, 0, 0]


async def test_a_failed_request_frees_its_slot() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport = ShardedTransport([httpx.MockTransport(refuse)])
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://sim/z")
    assert transport.busy == [0]


def test_pools_are_sized_to_hold_the_connections_asked_for() -> None:
    transport = ShardedTransport.for_connections(64, per_pool=8)
    assert len(transport.busy) == 8
    assert len(ShardedTransport.for_connections(5, per_pool=8).busy) == 1
    assert len(ShardedTransport.for_connections(20, per_pool=8).busy) == 3
    with pytest.raises(ValueError, match="pool"):
        ShardedTransport([])
