"""`/_sim/*`: drive a simulator from another process (end-to-end tests, the demo).

No bearer token, no rate limits, no faults — and loopback clients only.

* GET  /_sim/truth?stream=a,b&api_version=2.11 → `{stream: [{"key": [...], "record": {...}}]}`
* GET  /_sim/clock → `{"now"}`; POST `{"advance": seconds}` moves simulated time forward
* POST /_sim/mutate `{"n": 50, "seed": 3}` (random mix) or `{"op": "reply", "args": [...],
  "kwargs": {...}}` (one named mutation, membership ones included: `tag_contact`,
  `random_memberships`, ...) → what it did
* GET  /_sim/stats; POST /_sim/stats/reset
* GET/POST /_sim/faults (POST replaces the whole FaultSpec: omitted fields take defaults)
* GET/POST /_sim/quirks and /_sim/rate_limit (POST changes only the given fields)
* POST /_sim/tokens `{"token", "scopes": [...], "denial": "401"|"403", "app_id"}`
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intercom_sync.simulator.api.gateway import ASGIApp
from intercom_sync.simulator.api.runtime import Runtime
from intercom_sync.simulator.api.spec import SCOPES, FaultSpec, TokenSpec
from intercom_sync.simulator.api.truth import STREAMS, stream_truth
from intercom_sync.simulator.world.membership_ops import MEMBERSHIP_OPS
from intercom_sync.simulator.world.mutations import Mutator

LOOPBACK = frozenset(("127.0.0.1", "::1", "localhost", "testclient"))
# The Mutator operations /_sim/mutate may call by name.
MUTATIONS = frozenset(
    (
        "new_conversation", "reply", "assign", "close", "reopen", "snooze", "unsnooze",
        "tag_conversation", "delete_conversation",
        "new_contact", "update_contact", "delete_contact", "new_company", "update_company",
        "delete_company", "new_ticket", "update_ticket", "new_activity_log",
    )
) | frozenset(MEMBERSHIP_OPS)  # fmt: skip


class ControlError(Exception):
    pass


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload, default=_jsonable), status, media_type="application/json")


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ControlError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _replace(current: Any, changes: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(current)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ControlError(f"unknown field(s): {', '.join(unknown)}")
    try:
        return dataclasses.replace(current, **changes)
    except TypeError as error:
        raise ControlError(str(error)) from None


def build_control_app(runtime: Runtime) -> ASGIApp:
    async def truth(request: Request) -> Response:
        version = request.query_params.get("api_version", "2.11")
        wanted = request.query_params.get("stream")
        names = wanted.split(",") if wanted else sorted(STREAMS)
        missing = [n for n in names if n not in STREAMS]
        if missing:
            raise ControlError(f"unknown stream(s): {', '.join(missing)}")
        streams = {n: stream_truth(runtime.world, n, version, runtime.quirks) for n in names}
        return _json({n: _rows(streams[n]) for n in names})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            seconds = float((await _body(request)).get("advance", 0))
            advance = getattr(runtime.clock, "advance", None)
            if advance is None:
                raise ControlError("this simulator's clock cannot be moved")
            advance(seconds)
        return _json({"now": runtime.clock.now()})

    async def mutate(request: Request) -> Response:
        body = await _body(request)
        seed = body.get("seed")
        mutator = runtime.mutator if seed is None else Mutator(runtime.world, int(seed))
        if "op" in body:
            return _json({"done": _named_mutation(mutator, body)})
        return _json({"done": mutator.random(int(body.get("n", 1)))})

    async def stats(request: Request) -> Response:
        return _json(runtime.stats.to_dict())

    async def reset_stats(request: Request) -> Response:
        runtime.stats.reset()
        return _json(runtime.stats.to_dict())

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            runtime.set_faults(_replace(FaultSpec(), await _body(request)))
        return _json(runtime.faults.spec)

    async def quirks(request: Request) -> Response:
        if request.method == "POST":
            runtime.set_quirks(_replace(runtime.quirks, await _body(request)))
        return _json(runtime.quirks)

    async def rate_limit(request: Request) -> Response:
        if request.method == "POST":
            runtime.set_rate_limit(_replace(runtime.limiter.spec, await _body(request)))
        return _json(runtime.limiter.spec)

    async def tokens(request: Request) -> Response:
        token, spec = _token_spec(await _body(request))
        runtime.add_token(token, spec)
        return _json({"added": True, "scopes": sorted(spec.scopes), "denial": spec.denial})

    routes = [
        Route("/_sim/truth", truth, methods=["GET"]),
        Route("/_sim/clock", clock, methods=["GET", "POST"]),
        Route("/_sim/mutate", mutate, methods=["POST"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/stats/reset", reset_stats, methods=["POST"]),
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/quirks", quirks, methods=["GET", "POST"]),
        Route("/_sim/rate_limit", rate_limit, methods=["GET", "POST"]),
        Route("/_sim/tokens", tokens, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ControlError: _control_error})  # type: ignore[dict-item]
    return _LoopbackOnly(app)


def _rows(records: dict[tuple[str, ...], Any]) -> list[dict[str, Any]]:
    return [{"key": list(key), "record": records[key]} for key in sorted(records)]


def _named_mutation(mutator: Mutator, body: dict[str, Any]) -> Any:
    op = body["op"]
    if op not in MUTATIONS:
        raise ControlError(f"unknown mutation {op!r}; choose one of {', '.join(sorted(MUTATIONS))}")
    args = body.get("args", [])
    kwargs = body.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ControlError("args must be a list and kwargs an object")
    try:
        return getattr(mutator, op)(*args, **kwargs)
    except (TypeError, LookupError, ValueError) as error:
        raise ControlError(f"{op} failed: {error}") from None


def _token_spec(body: dict[str, Any]) -> tuple[str, TokenSpec]:
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise ControlError("token must be a non-empty string")
    scopes = frozenset(body.get("scopes", SCOPES))
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise ControlError(f"unknown scope(s): {', '.join(unknown)}")
    denial = body.get("denial", "401")
    if denial not in ("401", "403"):
        raise ControlError("denial must be '401' or '403'")
    return token, TokenSpec(scopes=scopes, denial=denial, app_id=str(body.get("app_id", "app-1")))


async def _control_error(request: Request, error: ControlError) -> Response:
    return _json({"error": str(error)}, status=400)


class _LoopbackOnly:
    """Refuse control requests that do not come from this machine."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if client is not None and client[0] not in LOOPBACK:
            await _json({"error": "control endpoints answer loopback clients only"}, 403)(
                scope, receive, send
            )
            return
        await self._app(scope, receive, send)
