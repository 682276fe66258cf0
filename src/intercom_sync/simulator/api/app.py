"""The simulated Intercom REST API as an ASGI app: the route table and its glue.

Each route names the token scope it needs (a token without it gets 401
`token_unauthorized` or 403, as its `TokenSpec.denial` says); the endpoint
functions in `endpoints.py` do the work. The gateway in front handles auth,
versions, rate limits and faults; `/_sim/*` is the control surface for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intercom_sync.simulator.api import endpoints
from intercom_sync.simulator.api.control import build_control_app
from intercom_sync.simulator.api.endpoints import Body, Call
from intercom_sync.simulator.api.errors import ApiError, bad_request, missing_permission
from intercom_sync.simulator.api.gateway import CONTEXT_KEY, ASGIApp, Gateway, RequestContext
from intercom_sync.simulator.api.runtime import Runtime

JSON = "application/json"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    scope: str
    handler: Callable[[Call], Body]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


_USERS = "read_users_companies"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/me", "read_admins", endpoints.me),
    Endpoint("GET", "/admins", "read_admins", endpoints.admins),
    Endpoint("GET", "/admins/activity_logs", "read_activity_logs", endpoints.activity_logs),
    Endpoint("GET", "/admins/{id}", "read_admins", endpoints.admin),
    Endpoint("GET", "/teams", _USERS, endpoints.teams),
    Endpoint("GET", "/teams/{id}", _USERS, endpoints.team),
    Endpoint("GET", "/tags", "read_tags", endpoints.tags),
    Endpoint("GET", "/segments", _USERS, endpoints.segments),
    Endpoint("GET", "/segments/{id}", _USERS, endpoints.segment),
    Endpoint("GET", "/data_attributes", _USERS, endpoints.data_attributes),
    Endpoint("GET", "/contacts", _USERS, endpoints.list_contacts),
    Endpoint("POST", "/contacts/search", _USERS, partial(endpoints.search, kind="contacts")),
    Endpoint("GET", "/contacts/{id}", _USERS, endpoints.contact),
    Endpoint("GET", "/contacts/{id}/companies", _USERS, endpoints.contact_companies),
    Endpoint("GET", "/contacts/{id}/segments", _USERS, endpoints.contact_segments),
    Endpoint("GET", "/contacts/{id}/tags", _USERS, endpoints.contact_tags),
    Endpoint(
        "POST",
        "/conversations/search",
        "read_conversations",
        partial(endpoints.search, kind="conversations"),
    ),
    Endpoint("GET", "/conversations", "read_conversations", endpoints.list_conversations),
    Endpoint("GET", "/conversations/{id}", "read_conversations", endpoints.conversation),
    Endpoint("GET", "/companies/scroll", _USERS, endpoints.companies_scroll),
    Endpoint("GET", "/companies/{id}", _USERS, endpoints.company),
    Endpoint("GET", "/companies/{id}/segments", _USERS, endpoints.company_segments),
    Endpoint("POST", "/tickets/search", "read_tickets", partial(endpoints.search, kind="tickets")),
    Endpoint("GET", "/tickets/{id}", "read_tickets", endpoints.ticket),
)


def build_app(runtime: Runtime) -> ASGIApp:
    """The whole simulator: gateway → API routes, plus the `/_sim/*` control routes."""
    api = Starlette(
        routes=[_route(endpoint, runtime) for endpoint in ENDPOINTS],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},  # type: ignore[dict-item]
    )
    control = build_control_app(runtime)
    return Gateway(api, control, runtime, endpoint_classifier())


def endpoint_classifier() -> Callable[[str, str], str]:
    """Map (method, path) to the endpoint's name ("GET /conversations/{id}") for stats."""
    patterns = [
        (e.method, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", e.path) + "$"), e.name)
        for e in ENDPOINTS
    ]

    def classify(method: str, path: str) -> str:
        for wanted, pattern, name in patterns:
            if method == wanted and pattern.match(path):
                return name
        return "unknown"

    return classify


def _route(endpoint: Endpoint, runtime: Runtime) -> Route:
    async def handle(request: Request) -> Response:
        context: RequestContext = request.scope[CONTEXT_KEY]
        if endpoint.scope not in context.token.scopes:
            raise missing_permission(endpoint.scope, context.token.denial)
        body = await _json_body(request) if endpoint.method == "POST" else None
        call = Call(
            runtime=runtime,
            version=context.version,
            path=request.path_params,
            query=request.query_params,
            body=body,
            base_url=str(request.base_url).rstrip("/"),
        )
        return Response(orjson.dumps(endpoint.handler(call)), media_type=JSON)

    return Route(endpoint.path, handle, methods=[endpoint.method], name=endpoint.name)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("the request body is not valid JSON", code="bad_request") from None


def _request_id(request: Request) -> str:
    context: RequestContext | None = request.scope.get(CONTEXT_KEY)
    return context.request_id if context is not None else ""


async def _api_error(request: Request, error: ApiError) -> Response:
    body = orjson.dumps(error.body(_request_id(request)))
    return Response(body, status_code=error.status, headers=error.headers, media_type=JSON)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == 405:
        mapped = ApiError(405, "method_not_allowed", "Method Not Allowed")
    else:
        mapped = ApiError(error.status_code, "not_found", "Resource Not Found")
    return await _api_error(request, mapped)
