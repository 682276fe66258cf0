"""The simulated API's endpoints: request parameters in, 2.11/2.14 response bodies out.

Each endpoint is a plain function of a `Call`, returning the JSON body (a dict)
or raising `ApiError`. Envelopes follow the response components the OpenAPI
files name for each path (`admin.list`, `team.list`, `list` + `data`, ...).
Records are stored in the 2.11 shape and rendered for the requested version.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from intercom_sync.simulator.api import cursors
from intercom_sync.simulator.api.errors import bad_request, not_found
from intercom_sync.simulator.api.render import company_shape, render
from intercom_sync.simulator.api.runtime import Runtime
from intercom_sync.simulator.api.search import (
    MAX_PER_PAGE,
    CompiledQuery,
    SearchPage,
    SearchRequest,
    compile_query,
    parse_request,
    search_page,
)
from intercom_sync.simulator.world.membership_reads import (
    MembershipSnapshot,
    contact_segment_ids,
    contact_tag_ids,
    segment_counts,
)
from intercom_sync.simulator.world.spec import DAY

Record = dict[str, Any]
Body = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One API request as the endpoints see it."""

    runtime: Runtime
    version: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    base_url: str  # scheme://host[:port], for the `next` links some lists return

    def render(self, kind: str, record: Record) -> Record:
        shaped = record if self.version == "2.11" else render(kind, record, self.version)
        if kind == "company":
            return company_shape(shaped, self.runtime.quirks.company_segments_embedded)
        return shaped  # for 2.11 the stored record itself

    def encoded(self, kind: str, records: list[Record]) -> list[Any]:
        """`render` each record, serialized once per record version (see `fragments.py`)
        and per shape (companies with or without their segments)."""
        variant = self.version
        if kind == "company" and not self.runtime.quirks.company_segments_embedded:
            variant = f"{self.version}/without-segments"
        return self.runtime.fragments.encode_all(
            records, variant, lambda record: self.render(kind, record)
        )


# --- small parameter helpers -----------------------------------------------------------------


def _int_param(call: Call, name: str, default: int | None = None) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer (got {raw!r})") from None


def _page_size(call: Call, default: int) -> int:
    per_page = _int_param(call, "per_page", default)
    assert per_page is not None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise bad_request(f"per_page must be between 1 and {MAX_PER_PAGE}")
    return per_page


def _page_number(call: Call) -> int:
    page = _int_param(call, "page", 1)
    assert page is not None
    if page < 1:
        raise bad_request("page must be 1 or more")
    return page


def _lookup(records: Mapping[str, Record], key: str, what: str, code: str = "not_found") -> Record:
    record = records.get(key)
    if record is None:
        raise not_found(f"{what} Not Found", code=code)
    return record


# --- workspace-level lists -------------------------------------------------------------------


def me(call: Call) -> Body:
    world = call.runtime.world
    if not world.admins:
        raise not_found("Admin Not Found", code="admin_not_found")
    stored = next(iter(world.admins.values()))
    admin = call.render("admin", stored)
    # `admin_with_app` always has an avatar object (`admin` may have null, or in 2.14 a URL).
    avatar = {"type": "avatar", "image_url": (stored.get("avatar") or {}).get("image_url")}
    app = {
        "type": "app",
        "id_code": world.spec.workspace_id,
        "name": "Simulated workspace",
        "created_at": world.spec.now - world.spec.history_days * DAY,
        "secure": False,
        "identity_verification": False,
        "timezone": world.spec.timezone,
        "region": "US",
    }
    return {**admin, "avatar": avatar, "email_verified": True, "app": app}


def admins(call: Call) -> Body:
    records = call.runtime.world.admins.values()
    return {"type": "admin.list", "admins": [call.render("admin", a) for a in records]}


def admin(call: Call) -> Body:
    record = _lookup(call.runtime.world.admins, call.path["id"], "Admin", "admin_not_found")
    return call.render("admin", record)


def teams(call: Call) -> Body:
    records = call.runtime.world.teams.values()
    return {"type": "team.list", "teams": [call.render("team", t) for t in records]}


def team(call: Call) -> Body:
    record = _lookup(call.runtime.world.teams, call.path["id"], "Team", "team_not_found")
    return call.render("team", record)


def tags(call: Call) -> Body:
    records = call.runtime.world.tags.values()
    return {"type": "list", "data": [call.render("tag", t) for t in records]}


def segments(call: Call) -> Body:
    world = call.runtime.world
    records = [call.render("segment", s) for s in world.segments.values()]
    if call.query.get("include_count") == "true":
        counts = segment_counts(world)
        records = [{**s, "count": counts.get(s["id"], 0)} for s in records]
    return {"type": "segment.list", "segments": records}


def segment(call: Call) -> Body:
    record = _lookup(call.runtime.world.segments, call.path["id"], "Segment")
    return call.render("segment", record)


def data_attributes(call: Call) -> Body:
    world = call.runtime.world
    model = call.query.get("model")
    if model not in (None, "contact", "company", "conversation"):
        raise bad_request(f"model must be contact, company or conversation (got {model!r})")
    models = [model] if model else ["contact", "company"]
    records = [r for m in models for r in world.data_attributes.get(m, [])]
    if call.query.get("include_archived") != "true":
        records = [r for r in records if not r.get("archived")]
    return {"type": "list", "data": [call.render("data_attribute", r) for r in records]}


# --- activity logs ---------------------------------------------------------------------------


def activity_logs(call: Call) -> Body:
    """Strict (the real API): `created_at_after` required, newest first, `pages.next` a URL.
    Relaxed: oldest first, paged by a `starting_after` cursor as the schema describes."""
    strict = call.runtime.quirks.activity_logs_strict
    after = _int_param(call, "created_at_after")
    if after is None and strict:
        raise bad_request("created_at_after is a required parameter", code="parameter_not_found")
    before = _int_param(call, "created_at_before")
    logs = _logs_between(call, after or 0, before)
    per_page = _page_size(call, 20)
    if strict:
        return _logs_newest_first(call, logs, per_page, after or 0, before)
    return _logs_by_cursor(call, logs, per_page, after or 0, before)


def _logs_between(call: Call, after: int, before: int | None) -> list[Record]:
    """Logs with `after <= created_at <= before` (both ends inclusive), oldest first."""
    logs = call.runtime.world.activity_logs
    low = bisect.bisect_left(logs, after, key=lambda log: log["created_at"])
    high = (
        len(logs)
        if before is None
        else bisect.bisect_right(logs, before, key=lambda log: log["created_at"])
    )
    return logs[low:high]


def _logs_newest_first(
    call: Call, logs: list[Record], per_page: int, after: int, before: int | None
) -> Body:
    page = _page_number(call)
    newest_first = logs[::-1]
    items = newest_first[(page - 1) * per_page : page * per_page]
    total_pages = -(-len(logs) // per_page)
    pages: Body = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages}
    if page < total_pages:
        params: dict[str, int] = {"created_at_after": after}
        if before is not None:
            params["created_at_before"] = before
        params.update(page=page + 1, per_page=per_page)
        pages["next"] = f"{call.base_url}/admins/activity_logs?{urlencode(params)}"
    return {
        "type": "activity_log.list",
        "pages": pages,
        "activity_logs": [call.render("activity_log", log) for log in items],
    }


def _logs_by_cursor(
    call: Call, logs: list[Record], per_page: int, after: int, before: int | None
) -> Body:
    fingerprint = cursors.fingerprint("activity_logs", after, before)
    token = call.query.get("starting_after")
    cursor = cursors.decode(token, fingerprint) if token else None
    offset, page = (cursor.offset or 0, cursor.page) if cursor else (0, 1)
    items = logs[offset : offset + per_page]
    total_pages = -(-len(logs) // per_page)
    pages: Body = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages}
    if offset + per_page < len(logs):
        following = cursors.Cursor(fingerprint, page + 1, offset=offset + per_page)
        pages["next"] = {"per_page": per_page, "starting_after": cursors.encode(following)}
    return {
        "type": "activity_log.list",
        "pages": pages,
        "activity_logs": [call.render("activity_log", log) for log in items],
    }


# --- search ----------------------------------------------------------------------------------

_SEARCH_ENVELOPES = {
    "contacts": ("list", "data", "contact"),
    "conversations": ("conversation.list", "conversations", "conversation"),
    "tickets": ("ticket.list", "tickets", "ticket"),
}


def search(call: Call, kind: str) -> Body:
    """POST /{kind}/search against the lagged search index (contact memberships included,
    see `memberships.py`)."""
    runtime = call.runtime
    options = runtime.search_options[kind]
    as_of = runtime.search_as_of()
    if kind == "contacts":
        snapshot = MembershipSnapshot(runtime.world, as_of, runtime.clock.now())
        options = replace(options, memberships=snapshot)
    request = parse_request(call.body, options.default_per_page)
    compiled = compile_query(request.query, options, request.order)
    return _run_search(call, kind, compiled, request, as_of)


def _run_search(
    call: Call, kind: str, compiled: CompiledQuery, request: SearchRequest, as_of: float
) -> Body:
    runtime = call.runtime
    world, quirks = runtime.world, runtime.quirks
    view = world.search_view(kind, as_of, hide_rewritten=quirks.reindex_hides)
    # Memberships (and, with the clock, time-based segments) change without a record write.
    memberships = (world.contact_links.generation, world.generation["segments"])
    generation = world.generation.get(kind, 0)
    now = int(runtime.clock.now())
    state = (kind, generation, int(as_of), quirks.reindex_hides, memberships, now)
    total = runtime.totals.get(view, compiled, state)
    positional = quirks.search_cursor == "positional"
    page = search_page(view, compiled, request, total, positional=positional)
    list_type, items_key, record_kind = _SEARCH_ENVELOPES[kind]
    return {
        "type": list_type,
        items_key: call.encoded(record_kind, page.records),
        "total_count": page.total_count,
        "pages": _cursor_pages(page),
    }


def _cursor_pages(page: SearchPage) -> Body:
    pages: Body = {
        "type": "pages",
        "page": page.page,
        "per_page": page.per_page,
        "total_pages": page.total_pages,
    }
    if page.next_cursor is not None:
        pages["next"] = {
            "page": page.page + 1,
            "per_page": page.per_page,
            "starting_after": page.next_cursor,
        }
    return pages


def list_contacts(call: Call) -> Body:
    """GET /contacts: every live contact in natural order, paged by `starting_after`."""
    return _list_all(call, "contacts", 50)


def list_conversations(call: Call) -> Body:
    """GET /conversations: every conversation (search shape, no parts) in natural order,
    paged by `starting_after` (`per_page` 20 by default, at most 150), in the
    `conversation.list` envelope both descriptions give. The order is not documented;
    creation order is stable under writes, so paging never skips or repeats one."""
    return _list_all(call, "conversations", 20)


def _list_all(call: Call, kind: str, default_per_page: int) -> Body:
    """A cursor-paged list of every live record of `kind`, as the primary store has them
    (no index lag)."""
    per_page = _page_size(call, default_per_page)
    request = SearchRequest(None, per_page, call.query.get("starting_after") or None, None)
    everything = CompiledQuery(None, None, None, cursors.fingerprint(kind, "list"))
    return _run_search(call, kind, everything, request, call.runtime.clock.now())


# --- contacts --------------------------------------------------------------------------------


def contact(call: Call) -> Body:
    record = _lookup(call.runtime.world.contacts, call.path["id"], "User")
    return call.render("contact", record)


def _existing_contact(call: Call) -> str:
    """The path's contact id (404 when there is no such contact)."""
    contact_id = call.path["id"]
    if contact_id not in call.runtime.world.contacts:
        raise not_found("User Not Found")
    return contact_id


def _contact_links(call: Call) -> Any:
    return call.runtime.world.contact_links[_existing_contact(call)]


def contact_companies(call: Call) -> Body:
    """Paged by `page`/`per_page`; the list is under both `companies` (the schema) and
    `data` (the YAML's example and the live API)."""
    world = call.runtime.world
    company_ids = [c for c in _contact_links(call).company_ids if c in world.companies]
    per_page = _page_size(call, 15)
    page = _page_number(call)
    chosen = company_ids[(page - 1) * per_page : page * per_page]
    records = [call.render("company", world.companies[c]) for c in chosen]
    total_pages = -(-len(company_ids) // per_page)
    pages: Body = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages}
    if page < total_pages:
        query = urlencode({"page": page + 1, "per_page": per_page})
        pages["next"] = f"{call.base_url}/contacts/{call.path['id']}/companies?{query}"
    return {
        "type": "list",
        "data": records,
        "companies": records,
        "total_count": len(company_ids),
        "pages": pages,
    }


def contact_segments(call: Call) -> Body:
    """Every segment the contact is in now: listed ones, then time-based ones."""
    world = call.runtime.world
    ids = contact_segment_ids(world, _existing_contact(call))
    return {"type": "list", "data": [call.render("segment", world.segments[s]) for s in ids]}


def contact_tags(call: Call) -> Body:
    world = call.runtime.world
    ids = contact_tag_ids(world, _existing_contact(call))
    return {"type": "list", "data": [call.render("tag", world.tags[t]) for t in ids]}


# --- conversations, tickets --------------------------------------------------------------------


def conversation(call: Call) -> Body:
    runtime = call.runtime
    body = runtime.world.conversation(call.path["id"], runtime.quirks.parts_cap)
    if body is None:
        raise not_found("Resource Not Found")
    return call.render("conversation", body)


def ticket(call: Call) -> Body:
    record = _lookup(call.runtime.world.tickets, call.path["id"], "Ticket")
    return call.render("ticket", record)


# --- companies -------------------------------------------------------------------------------


def companies_scroll(call: Call) -> Body:
    world = call.runtime.world
    scroll_param = call.query.get("scroll_param") or None
    page = call.runtime.scrolls.page(scroll_param, lambda: list(world.companies))
    records = [world.companies[c] for c in page.ids if c in world.companies]
    return {
        "type": "list",
        "data": call.encoded("company", records),
        "total_count": None,
        "scroll_param": page.param,
    }


def company(call: Call) -> Body:
    record = _lookup(call.runtime.world.companies, call.path["id"], "Company", "company_not_found")
    return call.render("company", record)


def company_segments(call: Call) -> Body:
    world = call.runtime.world
    company_id = call.path["id"]
    if company_id not in world.companies:
        raise not_found("Company Not Found", code="company_not_found")
    ids = [s for s in world.company_segment_ids.get(company_id, []) if s in world.segments]
    records = [call.render("segment", world.segments[s]) for s in ids]
    return {"type": "list", "data": records, "total_count": len(records)}
