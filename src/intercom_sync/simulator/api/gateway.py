"""What sits in front of the simulated API: auth, version, rate limits, faults, headers.

A plain ASGI wrapper around the Starlette routes, in this order:

1. planned latency (slept on the simulated clock);
2. bearer token → 401 `unauthorized` with NO rate-limit headers;
3. the rate limiter → 429 `rate_limit_exceeded` (every answer from here on
   carries `X-RateLimit-Limit/-Remaining/-Reset`);
4. `Intercom-Version` → 400 when it is not one the simulator renders;
5. planned failures: a 429 storm, a dropped connection, a 500/502/503;
6. the endpoint itself, whose 2xx body may then be truncated, corrupted, or
   trickled out slowly.

Every answer carries a `Date` header from the SIMULATED clock. `/_sim/*`
bypasses all of this (no token, no limits, no faults).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

import orjson

from intercom_sync.simulator.api import faults as fault_bodies
from intercom_sync.simulator.api.errors import ApiError, bad_request, unauthorized
from intercom_sync.simulator.api.faults import FaultPlan
from intercom_sync.simulator.api.render import DEFAULT_VERSION, SUPPORTED_VERSIONS
from intercom_sync.simulator.api.runtime import Runtime
from intercom_sync.simulator.api.spec import TokenSpec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

CONTEXT_KEY = "intercom_sim"
SCROLL_PATH = "/companies/scroll"
_JSON = (b"content-type", b"application/json; charset=utf-8")
_BAD_GATEWAY = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


class SimulatedDisconnect(Exception):
    """The connection drops before a complete response (an injected connection reset)."""


@dataclass(frozen=True)
class RequestContext:
    """What the endpoints learn from the gateway about the request."""

    version: str
    token: TokenSpec
    request_id: str


class Gateway:
    def __init__(
        self,
        api: ASGIApp,
        control: ASGIApp,
        runtime: Runtime,
        endpoint_of: Callable[[str, str], str],
    ) -> None:
        self._api = api
        self._control = control
        self._runtime = runtime
        self._endpoint_of = endpoint_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._api(scope, receive, send)
            return
        if scope["path"].startswith("/_sim"):
            await self._control(scope, receive, send)
            return
        endpoint = self._endpoint_of(scope["method"], scope["path"])
        stats = self._runtime.stats
        stats.began(endpoint)
        status = 0  # stays 0 when the connection drops
        try:
            status = await self._serve(scope, receive, send)
        finally:
            stats.ended(endpoint, status)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> int:
        runtime = self._runtime
        plan = runtime.faults.plan()
        request_id = runtime.request_ids.next()
        if plan.latency_seconds > 0:
            await runtime.clock.sleep(plan.latency_seconds)
        headers = _request_headers(scope)
        token = runtime.tokens.get(_bearer(headers.get("authorization", "")))
        if token is None:
            runtime.stats.unauthorized += 1
            return await self._error(send, unauthorized(), request_id, {})
        decision = runtime.limiter.acquire(token.app_id)
        limits = decision.headers()
        if not decision.allowed:
            runtime.stats.rate_limited += 1
            return await self._error(send, _rate_limited(), request_id, limits)
        version = headers.get("intercom-version", DEFAULT_VERSION).strip()
        if version not in SUPPORTED_VERSIONS:
            return await self._error(send, _bad_version(version), request_id, limits)
        failed = await self._inject_failure(plan, scope, send, request_id, token)
        if failed is not None:
            return failed
        scope[CONTEXT_KEY] = RequestContext(version, token, request_id)
        status, response_headers, body = await _capture(self._api, scope, receive)
        if 200 <= status < 300:
            body = _mangle(plan, body)
        await self._respond(send, status, response_headers, body, limits, plan)
        return status

    async def _inject_failure(
        self, plan: FaultPlan, scope: Scope, send: Send, request_id: str, token: TokenSpec
    ) -> int | None:
        """Answer for a planned failure (returning its status), or None to serve normally."""
        failure = plan.failure
        if failure is None or failure in ("truncated_body", "invalid_json"):
            return None
        runtime = self._runtime
        runtime.stats.faults[failure] += 1
        if plan.storm:
            storm = runtime.limiter.peek(token.app_id)
            limits = {**storm.headers(), "X-RateLimit-Remaining": "0"}
            return await self._error(send, _rate_limited(), request_id, limits)
        if plan.connection_reset:
            await _drop_connection(send)
        limits = runtime.limiter.peek(token.app_id).headers()
        if scope["path"] == SCROLL_PATH:
            runtime.scrolls.abort(_query_value(scope, "scroll_param"))
        if plan.error_status == 502:
            await self._respond(send, 502, [(b"content-type", b"text/html")], _BAD_GATEWAY, {})
            return 502
        return await self._error(send, _server_error(plan, scope), request_id, limits)

    async def _error(
        self, send: Send, error: ApiError, request_id: str, limits: dict[str, str]
    ) -> int:
        body = orjson.dumps(error.body(request_id))
        await self._respond(send, error.status, [_JSON], body, {**limits, **error.headers})
        return error.status

    async def _respond(
        self,
        send: Send,
        status: int,
        headers: Headers,
        body: bytes,
        extra: dict[str, str],
        plan: FaultPlan | None = None,
    ) -> None:
        final = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"date")]
        final.append((b"content-length", str(len(body)).encode()))
        final.append((b"date", formatdate(self._runtime.clock.now(), usegmt=True).encode()))
        final.extend((k.lower().encode(), v.encode()) for k, v in extra.items())
        await send({"type": "http.response.start", "status": status, "headers": final})
        delay = plan.slow_chunk_seconds if plan is not None else 0.0
        if delay <= 0:
            await send({"type": "http.response.body", "body": body})
            return
        pieces = fault_bodies.chunks(body)
        for index, piece in enumerate(pieces):
            await self._runtime.clock.sleep(delay)
            more = index < len(pieces) - 1
            await send({"type": "http.response.body", "body": piece, "more_body": more})


def _mangle(plan: FaultPlan, body: bytes) -> bytes:
    if plan.truncated_body:
        return fault_bodies.truncate(body, plan.truncate_fraction)
    if plan.invalid_json:
        return fault_bodies.corrupt(body, plan.truncate_fraction)
    return body


async def _drop_connection(send: Send) -> None:
    """Start a response, then vanish: over a socket the client sees the connection
    close mid-response; the in-process transport turns the exception into a read error."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [_JSON, (b"content-length", b"4096")],
        }
    )
    raise SimulatedDisconnect("connection reset by peer (simulated)")


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, Headers, bytes]:
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def collect(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, collect)
    return int(start["status"]), list(start.get("headers", [])), b"".join(parts)


def _request_headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _query_value(scope: Scope, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""


def _rate_limited() -> ApiError:
    return ApiError(
        429, "rate_limit_exceeded", "You have exceeded the rate limit. Please try again later."
    )


def _bad_version(version: str) -> ApiError:
    supported = ", ".join(SUPPORTED_VERSIONS)
    return bad_request(
        f"Intercom-Version {version!r} is not supported here (the simulator serves {supported})",
        code="intercom_version_invalid",
    )


def _server_error(plan: FaultPlan, scope: Scope) -> ApiError:
    if plan.error_status == 503:
        return ApiError(503, "service_unavailable", "Sorry, the API service is unavailable")
    if scope["path"] == SCROLL_PATH:
        message = (
            "Request failed due to an internal network error. Please restart the scroll operation."
        )
        return ApiError(500, "server_error", message)
    return ApiError(500, "server_error", "An internal server error occurred")
