"""Every simulator response the sync uses, and every error body, against Intercom's OpenAPI.

For each endpoint the test first reads which response component the YAML
documents for that path, method and status (so the table below cannot drift
from the spec), then validates what the simulator actually returned against
it — for 2.11 and, with `Intercom-Version: 2.14`, for 2.14.

Documented deviations (the live API differs from its own schema, and the
simulator follows the live API):

* `GET /admins/activity_logs`: `pages.next` is a full URL string, while the
  schema's `cursor_pages.next` is a `starting_after_paging` object. The test
  checks that this is the ONLY violation in those responses.
* `GET /contacts/{id}/companies`: the schema names the list `companies`, the
  YAML's example (and the live API) `data`; the simulator sends both.
* A 502 comes from the load balancer as an HTML page, not an `error.list`.

2.12 and 2.13 (served, but their descriptions are not among the files here) are
validated against the 2.14 components: every difference they have from 2.14 is a
field 2.14 adds, and `tests/unit/test_sim_render.py` checks each one by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from intercom_sync.simulator.service import (
    SCOPES,
    FaultSpec,
    RateLimitSpec,
    Simulator,
    SimulatorConfig,
    TokenSpec,
    WorldSpec,
)
from tests.openapi_schemas import openapi_document, validation_errors

VERSIONS = ("2.11", "2.14")
# Versions served without their own description here: validated against 2.14's.
LATER_VERSIONS = ("2.12", "2.13")
ASCENDING = {"field": "updated_at", "order": "ascending"}
EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}


def documented_component(version: str, path: str, method: str, status: int) -> str | None:
    """The component the YAML names for a response (None when the status is undocumented).

    An inline `allOf: [$ref X]` that only adds optional properties counts as X (2.14's
    `GET /contacts/{id}` adds an optional `enabled_push_messaging`)."""
    operation = openapi_document(version)["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    schema = response["content"]["application/json"]["schema"]
    ref = schema.get("$ref") or schema.get("allOf", [{}])[0].get("$ref")
    assert ref, f"{version} {method} {path} {status}: no component reference"
    assert not schema.get("required"), "an inline schema may only add optional properties"
    return str(ref.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    spec_path: str  # the path as the YAML spells it
    url: Callable[[Simulator], str]
    component: str
    body: dict[str, Any] | None = None


def _first(records: dict[str, Any]) -> str:
    return next(iter(records))


def _busiest_contact(sim: Simulator) -> str:
    links = sim.world.contact_links
    return max(links, key=lambda c: len(links[c].company_ids) + len(links[c].segment_ids))


def _company_with_segments(sim: Simulator) -> str:
    ids = sim.world.company_segment_ids
    return max(ids, key=lambda c: len(ids[c]))


def _search(per_page: int = 20) -> dict[str, Any]:
    return {"query": EVERYTHING, "sort": ASCENDING, "pagination": {"per_page": per_page}}


CASES = (
    Case("me", "GET", "/me", lambda s: "/me", "admin_with_app"),
    Case("admins", "GET", "/admins", lambda s: "/admins", "admin_list"),
    Case(
        "admin",
        "GET",
        "/admins/{admin_id}",
        lambda s: f"/admins/{_first(s.world.admins)}",
        "admin",
    ),
    Case("teams", "GET", "/teams", lambda s: "/teams", "team_list"),
    Case("team", "GET", "/teams/{team_id}", lambda s: f"/teams/{_first(s.world.teams)}", "team"),
    Case("tags", "GET", "/tags", lambda s: "/tags", "tag_list"),
    Case("segments", "GET", "/segments", lambda s: "/segments?include_count=true", "segment_list"),
    Case(
        "segment",
        "GET",
        "/segments/{segment_id}",
        lambda s: f"/segments/{_first(s.world.segments)}",
        "segment",
    ),
    Case(
        "contact attributes",
        "GET",
        "/data_attributes",
        lambda s: "/data_attributes?model=contact",
        "data_attribute_list",
    ),
    Case(
        "company attributes",
        "GET",
        "/data_attributes",
        lambda s: "/data_attributes?model=company",
        "data_attribute_list",
    ),
    Case(
        "contacts search",
        "POST",
        "/contacts/search",
        lambda s: "/contacts/search",
        "contact_list",
        _search(),
    ),
    Case(
        "contact",
        "GET",
        "/contacts/{contact_id}",
        lambda s: f"/contacts/{_busiest_contact(s)}",
        "contact",
    ),
    Case(
        "contact companies",
        "GET",
        "/contacts/{contact_id}/companies",
        lambda s: f"/contacts/{_busiest_contact(s)}/companies?per_page=1",
        "contact_attached_companies",
    ),
    Case(
        "contact segments",
        "GET",
        "/contacts/{contact_id}/segments",
        lambda s: f"/contacts/{_busiest_contact(s)}/segments",
        "contact_segments",
    ),
    Case(
        "contact tags",
        "GET",
        "/contacts/{contact_id}/tags",
        lambda s: f"/contacts/{_busiest_contact(s)}/tags",
        "tag_list",
    ),
    Case(
        "conversations search",
        "POST",
        "/conversations/search",
        lambda s: "/conversations/search",
        "paginated_conversation_response",
        _search(),
    ),
    Case(
        "conversations list",
        "GET",
        "/conversations",
        lambda s: "/conversations?per_page=25",
        "paginated_conversation_response",
    ),
    Case(
        "conversation",
        "GET",
        "/conversations/{conversation_id}",
        lambda s: f"/conversations/{max(s.world.conversations, key=s.world.parts.count)}",
        "conversation",
    ),
    Case(
        "companies scroll",
        "GET",
        "/companies/scroll",
        lambda s: "/companies/scroll",
        "company_scroll",
    ),
    Case(
        "company",
        "GET",
        "/companies/{company_id}",
        lambda s: f"/companies/{_first(s.world.companies)}",
        "company",
    ),
    Case(
        "company segments",
        "GET",
        "/companies/{company_id}/segments",
        lambda s: f"/companies/{_company_with_segments(s)}/segments",
        "company_attached_segments",
    ),
    Case(
        "tickets search",
        "POST",
        "/tickets/search",
        lambda s: "/tickets/search",
        "ticket_list",
        _search(),
    ),
    Case(
        "ticket",
        "GET",
        "/tickets/{ticket_id}",
        lambda s: f"/tickets/{_first(s.world.tickets)}",
        "ticket",
    ),
)
# 2.14 renamed the conversation search envelope's component.
COMPONENT_2_14 = {"paginated_conversation_response": "conversation_list"}


def expected_component(case: Case, version: str) -> str:
    return (
        COMPONENT_2_14.get(case.component, case.component) if version == "2.14" else case.component
    )


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(
        SimulatorConfig(world=WorldSpec.preset("small"), rate_limit=RateLimitSpec(enabled=False))
    )


@pytest.fixture
async def client(sim: Simulator, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    clients = {v: sim.client(api_version=v) for v in (*VERSIONS, *LATER_VERSIONS)}
    try:
        yield clients
    finally:
        for each in clients.values():
            await each.aclose()


def assert_valid(version: str, component: str, body: Any) -> None:
    errors = validation_errors(version, component, body)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_each_endpoint_answers_with_its_documented_component(
    case: Case, version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    component = expected_component(case, version)
    assert documented_component(version, case.spec_path, case.method, 200) == component
    response = await client[version].request(case.method, case.url(sim), json=case.body)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(version, component, body)
    if case.name == "companies scroll":  # leave no scroll open for the next case
        sim.runtime.scrolls.abort(body["scroll_param"])


@pytest.mark.parametrize("version", LATER_VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_2_12_and_2_13_answer_with_the_2_14_components(
    case: Case, version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    response = await client[version].request(case.method, case.url(sim), json=case.body)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid("2.14", expected_component(case, "2.14"), body)
    if case.name == "companies scroll":
        sim.runtime.scrolls.abort(body["scroll_param"])


def _items(body: dict[str, Any]) -> list[Any]:
    for key in ("data", "conversations", "tickets", "admins", "teams", "segments"):
        if key in body:
            return list(body[key])
    return []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases_exercise_non_empty_lists(
    case: Case, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    """A list that validates because it is empty proves little: every list case has items."""
    response = await client["2.11"].request(case.method, case.url(sim), json=case.body)
    body = response.json()
    if case.name == "companies scroll":
        sim.runtime.scrolls.abort(body["scroll_param"])
    if body.get("type") in ("list", "admin.list", "team.list", "segment.list") or "pages" in body:
        assert _items(body), f"{case.name} returned an empty list"


async def test_2_14_renders_ticket_state_as_an_object(
    sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    ticket_id = _first(sim.world.tickets)
    old = (await client["2.11"].get(f"/tickets/{ticket_id}")).json()
    new = (await client["2.14"].get(f"/tickets/{ticket_id}")).json()
    assert isinstance(old["ticket_state"], str)
    assert new["ticket_state"]["type"] == "ticket_state"
    assert new["ticket_state"]["category"] == old["ticket_state"]
    searched = (await client["2.14"].post("/tickets/search", json=_search(5))).json()
    assert all(isinstance(t["ticket_state"], dict) for t in searched["tickets"])
    # The 2.11 shape does not validate as 2.14 and vice versa: the versions really differ.
    assert validation_errors("2.14", "ticket", old)
    assert validation_errors("2.11", "ticket", new)


@pytest.mark.parametrize("version", VERSIONS)
async def test_activity_logs_deviate_from_the_schema_only_in_the_next_url(
    version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    assert documented_component(version, "/admins/activity_logs", "GET", 200) == (
        "activity_log_list"
    )
    response = await client[version].get("/admins/activity_logs?created_at_after=0&per_page=5")
    body = response.json()
    assert isinstance(body["pages"]["next"], str) and body["pages"]["next"].startswith("http")
    assert validation_errors(version, "activity_log_list", body)
    # With `next` in the schema's form, the very same body validates: that is the only gap.
    schema_next = {"per_page": 5, "starting_after": "opaque"}
    conforming = {**body, "pages": {**body["pages"], "next": schema_next}}
    assert_valid(version, "activity_log_list", conforming)
    assert body["activity_logs"]


async def test_relaxed_activity_logs_follow_the_schema(sim: Simulator) -> None:
    relaxed = Simulator(SimulatorConfig(world=WorldSpec.preset("tiny")))
    relaxed.set_quirks(activity_logs_strict=False)
    async with relaxed.client() as client:
        body = (await client.get("/admins/activity_logs?per_page=5")).json()
    assert isinstance(body["pages"]["next"], dict)
    assert_valid("2.11", "activity_log_list", body)


async def test_contact_companies_send_both_list_keys(
    sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    body = (await client["2.11"].get(f"/contacts/{_busiest_contact(sim)}/companies")).json()
    assert body["companies"] == body["data"] and body["companies"]


# --- memberships, embedded lists, company shapes, the conversation list ------------------------


async def _search_pages(
    client: httpx.AsyncClient, query: dict[str, Any], per_page: int
) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        body = {"query": query, "pagination": {"per_page": per_page, "starting_after": cursor}}
        response = await client.post("/contacts/search", json=body)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        following = pages[-1]["pages"].get("next")
        cursor = following["starting_after"] if following else None
        if cursor is None:
            return pages


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("field", ["segment_id", "tag_id"])
@pytest.mark.parametrize("operator", ["=", "!="])
async def test_contact_search_by_membership_lists_exactly_the_members(
    version: str, field: str, operator: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    """`segment_id`/`tag_id` `=` X lists X's members (a contact whose eleventh tag is X
    too), `!=` X everyone else; `total_count` counts them on every page."""
    world = sim.world
    if field == "segment_id":
        kind: Literal["tags", "segments"] = "segments"
        group = max(world.segments, key=lambda g: len(world.contact_links.members("segments", g)))
    else:
        kind, heavy = "tags", _heaviest(sim, "tag_ids")
        group = world.contact_links[heavy].tag_ids[-1]  # beyond the ten it embeds
        assert group not in [t["id"] for t in world.contacts[heavy]["tags"]["data"]]
    members = set(world.contact_links.members(kind, group))
    expected = members if operator == "=" else set(world.contacts) - members
    query = {"field": field, "operator": operator, "value": group}
    per_page = 10 if kind == "tags" and operator == "=" else 150  # several pages each
    pages = await _search_pages(client[version], query, per_page)
    for page in (pages[0], pages[-1]):  # validating is slow; every page has the same shape
        assert_valid(version, "contact_list", page)
    assert {page["total_count"] for page in pages} == {len(expected)}
    found = [contact["id"] for page in pages for contact in page["data"]]
    assert len(found) == len(set(found)) and set(found) == expected and len(pages) > 1
    if field == "tag_id" and operator == "=":
        assert heavy in found


@pytest.mark.parametrize("field", ["segment_id", "tag_id"])
@pytest.mark.parametrize("operator", ["IN", "NIN", "~", "!~", "^", "$", ">", "<", ">=", "<="])
async def test_membership_fields_take_only_equality(
    field: str, operator: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    """The contact search description allows `=` and `!=` on `tag_id` (and lists both
    fields as strings); anything else is a 400 `parameter_invalid` error body."""
    value: Any = ["1"] if operator in ("IN", "NIN") else "1"
    body = {"query": {"field": field, "operator": operator, "value": value}}
    for version in VERSIONS:
        response = await client[version].post("/contacts/search", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "parameter_invalid"
        assert_valid(version, "error", response.json())


def _heaviest(sim: Simulator, attribute: str) -> str:
    links = sim.world.contact_links
    return max(links, key=lambda c: len(getattr(links[c], attribute)))


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_contact_embeds_ten_tags_and_says_it_has_more(
    version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    contact_id = _heaviest(sim, "tag_ids")
    all_tags = sim.world.contact_links[contact_id].tag_ids
    assert len(all_tags) > 10
    contact = (await client[version].get(f"/contacts/{contact_id}")).json()
    assert_valid(version, "contact", contact)
    embedded = contact["tags"]
    assert [tag["id"] for tag in embedded["data"]] == all_tags[:10]
    assert embedded["has_more"] is True and embedded["total_count"] == len(all_tags)
    assert embedded["url"] == f"/contacts/{contact_id}/tags"
    assert all(tag["url"] == f"/tags/{tag['id']}" for tag in embedded["data"])
    full = (await client[version].get(embedded["url"])).json()
    assert_valid(version, "tag_list", full)
    assert [tag["id"] for tag in full["data"]] == all_tags


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_contact_embeds_ten_companies_and_pages_the_rest(
    version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    contact_id = _heaviest(sim, "company_ids")
    all_companies = sim.world.contact_links[contact_id].company_ids
    assert len(all_companies) > 10
    embedded = (await client[version].get(f"/contacts/{contact_id}")).json()["companies"]
    assert [company["id"] for company in embedded["data"]] == all_companies[:10]
    assert embedded["has_more"] is True and embedded["total_count"] == len(all_companies)
    seen: list[str] = []
    url: str | None = f"{embedded['url']}?per_page=4"
    while url is not None:
        page = (await client[version].get(url)).json()
        assert_valid(version, "contact_attached_companies", page)
        assert page["total_count"] == len(all_companies)
        seen.extend(company["id"] for company in page["companies"])
        url = page["pages"].get("next")
    assert seen == all_companies


@pytest.mark.parametrize("version", VERSIONS)
async def test_companies_come_with_or_without_their_segments(version: str) -> None:
    """`company_segments_embedded` on: the scroll's companies carry their complete
    `segment.list`; off: no `segments` key anywhere a company is served, and
    `/companies/{id}/segments` is the one source."""
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("tiny", companies=30)))
    world = sim.world
    shapes: dict[bool, dict[str, Any]] = {}
    async with sim.client(api_version=version) as http:
        for embedded in (True, False):
            sim.set_quirks(company_segments_embedded=embedded)
            page = (await http.get("/companies/scroll")).json()
            assert_valid(version, "company_scroll", page)
            sim.runtime.scrolls.abort(page["scroll_param"])
            shapes[embedded] = {company["id"]: company for company in page["data"]}
            company_id = next(c for c, ids in world.company_segment_ids.items() if ids)
            one = (await http.get(f"/companies/{company_id}")).json()
            assert ("segments" in one) is embedded
            listed = (await http.get(f"/companies/{company_id}/segments")).json()
            assert_valid(version, "company_attached_segments", listed)
            assert [s["id"] for s in listed["data"]] == world.company_segment_ids[company_id]
            truth = sim.truth(version)["companies"]
            assert all(("segments" in record) is embedded for record in truth.values())
    for company_id, company in shapes[True].items():
        embedded_ids = [segment["id"] for segment in company["segments"]["segments"]]
        assert embedded_ids == world.company_segment_ids[company_id]
        assert company["segments"]["type"] == "segment.list"
        assert "segments" not in shapes[False][company_id]
        assert {**shapes[False][company_id], "segments": company["segments"]} == company
    assert any(company["segments"]["segments"] for company in shapes[True].values())


@pytest.mark.parametrize("version", [*VERSIONS, *LATER_VERSIONS])
async def test_the_conversation_list_pages_every_conversation(
    version: str, sim: Simulator, client: dict[str, httpx.AsyncClient]
) -> None:
    component = "paginated_conversation_response" if version == "2.11" else "conversation_list"
    schema_version = version if version in VERSIONS else "2.14"
    seen: list[str] = []
    url = "/conversations?per_page=150"
    for number in range(100):
        page = (await client[version].get(url)).json()
        if number == 0:  # validating is slow; every page has the same shape
            assert_valid(schema_version, component, page)
        assert page["total_count"] == len(sim.world.conversations)
        assert all("conversation_parts" not in c for c in page["conversations"])
        seen.extend(c["id"] for c in page["conversations"])
        following = page["pages"].get("next")
        if not following:
            break
        url = f"/conversations?per_page=150&starting_after={following['starting_after']}"
    assert seen == list(sim.world.conversations)
    default = (await client[version].get("/conversations")).json()
    assert default["pages"]["per_page"] == 20 and len(default["conversations"]) == 20
    too_many = await client[version].get("/conversations?per_page=151")
    assert too_many.status_code == 400


# --- error bodies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    name: str
    status: int
    code: str
    method: str
    spec_path: str
    url: str
    body: dict[str, Any] | None = None
    token: str | None = None
    version: str | None = None
    faults: FaultSpec | None = None
    setup: Callable[[Simulator], None] | None = None


def _deep_query() -> dict[str, Any]:
    leaf = {"field": "id", "operator": "=", "value": "1"}
    return {
        "operator": "AND",
        "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}],
    }


def _limited_tokens(sim: Simulator) -> None:
    without_tickets = frozenset(SCOPES) - {"read_tickets"}
    sim.add_token("no-tickets-401", TokenSpec(scopes=without_tickets, denial="401"))
    sim.add_token("no-tickets-403", TokenSpec(scopes=without_tickets, denial="403"))


def _open_scroll(sim: Simulator) -> None:
    sim.runtime.scrolls.page(None, lambda: list(sim.world.companies))


def _tight_limit(sim: Simulator) -> None:
    sim.set_rate_limit(RateLimitSpec(per_minute=6, workspace_per_minute=6))
    sim.runtime.limiter.acquire("app-1")


ERROR_CASES = (
    ErrorCase("no token", 401, "unauthorized", "GET", "/admins", "/admins", token=""),
    ErrorCase("bad token", 401, "unauthorized", "GET", "/teams", "/teams", token="wrong"),
    ErrorCase(
        "missing scope (401)",
        401,
        "token_unauthorized",
        "POST",
        "/tickets/search",
        "/tickets/search",
        body=_search(),
        token="no-tickets-401",
    ),
    ErrorCase(
        "missing scope (403)",
        403,
        "api_plan_restricted",
        "GET",
        "/tickets/{ticket_id}",
        "/tickets/1",
        token="no-tickets-403",
    ),
    ErrorCase("unknown admin", 404, "admin_not_found", "GET", "/admins/{admin_id}", "/admins/1"),
    ErrorCase("unknown team", 404, "team_not_found", "GET", "/teams/{team_id}", "/teams/1"),
    ErrorCase("unknown contact", 404, "not_found", "GET", "/contacts/{contact_id}", "/contacts/x"),
    ErrorCase(
        "unknown contact's companies",
        404,
        "not_found",
        "GET",
        "/contacts/{contact_id}/companies",
        "/contacts/x/companies",
    ),
    ErrorCase(
        "unknown conversation",
        404,
        "not_found",
        "GET",
        "/conversations/{conversation_id}",
        "/conversations/1",
    ),
    ErrorCase(
        "unknown company",
        404,
        "company_not_found",
        "GET",
        "/companies/{company_id}",
        "/companies/x",
    ),
    ErrorCase(
        "unknown company's segments",
        404,
        "company_not_found",
        "GET",
        "/companies/{company_id}/segments",
        "/companies/x/segments",
    ),
    ErrorCase(
        "unknown version",
        400,
        "intercom_version_invalid",
        "GET",
        "/admins",
        "/admins",
        version="1.4",
    ),
    ErrorCase(
        "nesting too deep",
        400,
        "parameter_invalid",
        "POST",
        "/conversations/search",
        "/conversations/search",
        body={"query": _deep_query()},
    ),
    ErrorCase(
        "too many filters",
        400,
        "parameter_invalid",
        "POST",
        "/contacts/search",
        "/contacts/search",
        body={"query": {"operator": "OR", "value": [EVERYTHING] * 16}},
    ),
    ErrorCase(
        "unknown field",
        400,
        "parameter_invalid",
        "POST",
        "/tickets/search",
        "/tickets/search",
        body={"query": {"field": "colour", "operator": "=", "value": "red"}},
    ),
    ErrorCase(
        "per_page too large",
        400,
        "parameter_invalid",
        "POST",
        "/conversations/search",
        "/conversations/search",
        body={"query": EVERYTHING, "pagination": {"per_page": 151}},
    ),
    ErrorCase(
        "invalid cursor",
        400,
        "parameter_invalid",
        "POST",
        "/conversations/search",
        "/conversations/search",
        body={"query": EVERYTHING, "pagination": {"starting_after": "bm9wZQ=="}},
    ),
    ErrorCase(
        "activity logs without created_at_after",
        400,
        "parameter_not_found",
        "GET",
        "/admins/activity_logs",
        "/admins/activity_logs",
    ),
    ErrorCase(
        "second scroll",
        400,
        "scroll_exists",
        "GET",
        "/companies/scroll",
        "/companies/scroll",
        setup=_open_scroll,
    ),
    ErrorCase(
        "expired scroll",
        404,
        "not_found",
        "GET",
        "/companies/scroll",
        "/companies/scroll?scroll_param=00000000-0000-4000-8000-000000000000",
    ),
    ErrorCase(
        "rate limited", 429, "rate_limit_exceeded", "GET", "/tags", "/tags", setup=_tight_limit
    ),
    ErrorCase(
        "429 storm",
        429,
        "rate_limit_exceeded",
        "GET",
        "/admins",
        "/admins",
        faults=FaultSpec(storm_rate=1.0),
    ),
    ErrorCase(
        "server error",
        500,
        "server_error",
        "GET",
        "/companies/scroll",
        "/companies/scroll",
        faults=FaultSpec(error_500=1.0),
    ),
    ErrorCase(
        "unavailable",
        503,
        "service_unavailable",
        "GET",
        "/segments",
        "/segments",
        faults=FaultSpec(error_503=1.0),
    ),
)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.name)
async def test_every_error_body_is_an_intercom_error(case: ErrorCase, version: str) -> None:
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("tiny")))
    _limited_tokens(sim)
    if case.setup is not None:
        case.setup(sim)
    if case.faults is not None:
        sim.set_faults(case.faults)
    token = case.token if case.token is not None else None
    async with sim.client(api_version=case.version or version) as client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}" if token else ""}
        response = await client.request(case.method, case.url, json=case.body, headers=headers)
    assert response.status_code == case.status, response.text
    body = response.json()
    assert body["errors"][0]["code"] == case.code
    assert body["request_id"]
    assert_valid(version, "error", body)
    documented = documented_component(version, case.spec_path, case.method, case.status)
    assert documented in (None, "error")
    if case.status == 401 and case.code == "unauthorized":
        assert "x-ratelimit-limit" not in response.headers
    elif case.status == 429:
        assert int(response.headers["x-ratelimit-reset"]) > sim.clock.now()
        assert response.headers["x-ratelimit-remaining"] == "0"
