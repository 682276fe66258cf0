"""Is the token good, and which streams may it read? (`intercom-sync check`, and the
protocol adapters' connection checks.)

Each stream is probed with the smallest request that needs the same permission. The
companies stream is probed through the company data attributes (same permission): opening
a real scroll would block every other scroll in the workspace for a minute. A child stream
(parts, company segments, contact companies) reads per-record URLs with its parent's
permission, so it is reported as its parent: probing its URL template would only 404.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from intercom_sync.client.errors import AuthenticationError, IntercomError, PermissionDeniedError
from intercom_sync.client.http import ClientOptions, IntercomClient
from intercom_sync.client.pagination import Request
from intercom_sync.config import Settings
from intercom_sync.streams.catalog import CATALOG, StreamSpec

_PROBE_BY_STREAM: dict[str, Request] = {
    "contacts": Request.post(
        "/contacts/search",
        {
            "query": {"field": "updated_at", "operator": ">", "value": 0},
            "pagination": {"per_page": 1},
        },
    ),
    "conversations": Request.post(
        "/conversations/search",
        {
            "query": {"field": "updated_at", "operator": ">", "value": 0},
            "pagination": {"per_page": 1},
        },
    ),
    "tickets": Request.post(
        "/tickets/search",
        {
            "query": {"field": "updated_at", "operator": ">", "value": 0},
            "pagination": {"per_page": 1},
        },
    ),
    "companies": Request.get("/data_attributes", {"model": "company"}),
}


@dataclass
class StreamCheck:
    stream: str
    readable: bool
    permission: str
    detail: str


@dataclass
class CheckReport:
    admin: str
    workspace: str
    streams: list[StreamCheck]

    @property
    def all_readable(self) -> bool:
        """Every stream a sync needs is readable; an optional one (tickets) may not be:
        a sync skips it with a warning and still succeeds."""
        return all(s.readable or _optional(s.stream) for s in self.streams)


def _optional(name: str) -> bool:
    return any(s.name == name and s.optional for s in CATALOG)


def _probe(spec: StreamSpec) -> Request:
    if spec.name in _PROBE_BY_STREAM:
        return _PROBE_BY_STREAM[spec.name]
    if spec.membership is not None:  # the scans need the list of groups first
        return Request.get(spec.membership.groups_path)
    if spec.kind == "activity_logs":
        return Request.get(spec.endpoint, {"created_at_after": int(time.time()) - 86_400})
    return Request.get(spec.endpoint, spec.params or None)


async def check(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> CheckReport:
    """Raises AuthenticationError when the token is rejected outright."""
    async with IntercomClient(ClientOptions.from_settings(settings), transport=transport) as client:
        me = await _whoami(client)
        app = me.get("app") if isinstance(me.get("app"), dict) else {}
        report = CheckReport(
            admin=str(me.get("email") or me.get("name") or "?"),
            workspace=str((app or {}).get("name") or (app or {}).get("id_code") or "?"),
            streams=[],
        )
        results: dict[str, StreamCheck] = {}
        for spec in CATALOG:
            if spec.parent is None:
                results[spec.name] = await _check_stream(client, spec)
        for spec in CATALOG:
            if spec.parent is not None:
                base = results[spec.parent]
                results[spec.name] = StreamCheck(
                    spec.name, base.readable, spec.scope, f"as {base.stream}: {base.detail}"
                )
            report.streams.append(results[spec.name])
    return report


async def _whoami(client: IntercomClient) -> dict[str, Any]:
    """`GET /me`; a token without the admins permission may still read other streams."""
    try:
        return (await client.get("/me")).data
    except PermissionDeniedError:
        return {}


async def _check_stream(client: IntercomClient, spec: StreamSpec) -> StreamCheck:
    try:
        await client.send(_probe(spec))
    except AuthenticationError:
        raise
    except PermissionDeniedError as error:
        what = "skipped on sync" if spec.optional else "sync will fail"
        return StreamCheck(
            spec.name, False, spec.scope, f"missing permission '{spec.scope}' ({what}): {error}"
        )
    except IntercomError as error:
        return StreamCheck(spec.name, False, spec.scope, str(error))
    return StreamCheck(spec.name, True, spec.scope, "readable")
