"""Memberships that stay true (issue 11): segment and tag members read by contact search,
never one request per contact, and company segments from the scroll's own pages.

A contact's `updated_at` does not move when it is tagged or enters or leaves a segment, and
a time-based segment changes with the clock alone; the simulator does all of that.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import orjson
import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import Quirks, Simulator, SimulatorConfig, WorldSpec
from tests.e2e.harness import differences, open_test_store, run, store_edges, truth_edges

pytestmark = pytest.mark.slow

WORLD = WorldSpec.preset(
    "small",
    seed=21,
    contacts=700,
    conversations=120,
    companies=80,
    tickets=10,
    activity_logs=20,
    long_conversations=0,
)
MEMBERSHIPS = ("contact_segments", "contact_tags")
PER_CONTACT_SEGMENTS = "GET /contacts/{id}/segments"


def simulator(quirks: Quirks | None = None) -> tuple[Simulator, ManualClock]:
    clock = ManualClock(WORLD.now)
    sim = Simulator(SimulatorConfig(world=WORLD, quirks=quirks or Quirks()), clock=clock)
    return sim, clock


def assert_memberships_exact(sim: Simulator, path: Path) -> None:
    store = open_test_store(path)
    try:
        assert differences(store, sim.truth(), (*MEMBERSHIPS, "company_segments")) == {}
        wanted = {e for e in truth_edges(sim.world) if e[0] == "intercom_contact"}
        have = {e for e in store_edges(store) if e[0] == "intercom_contact"}
        assert have == wanted
    finally:
        store.close()


def test_memberships_equal_the_truth_through_changes_and_a_clock_jump(tmp_path: Path) -> None:
    """Done-when 1 of issue 11: after a full sync, rounds of tagging, untagging, segment
    joins and leaves (none of which moves `updated_at`), and a clock jump past a time-based
    segment's window, contact_segments and contact_tags equal the truth — and no request was
    ever made to `/contacts/{id}/segments`."""
    sim, clock = simulator()
    time_segment = sim.mutator.new_time_segment(days=14).id
    path = tmp_path / "store.db"
    rng = random.Random(4)
    assert run(sim, path).status == "succeeded"
    assert_memberships_exact(sim, path)
    for _ in range(3):
        changed = sim.mutator.random_memberships(rng.randint(20, 40))
        assert {c.kind for c in changed} >= set(MEMBERSHIPS)
        sim.mutator.random(rng.randint(5, 15), deletions=False)
        clock.advance(sim.quirks.search_lag_seconds + rng.uniform(1, 600))
        assert run(sim, path).status == "succeeded"
        assert_memberships_exact(sim, path)
    before = {k for k in sim.truth()["contact_segments"] if k[1] == time_segment}
    clock.advance(20 * 86_400)  # nobody's record changes; the time-based segment does
    after = {k for k in sim.truth()["contact_segments"] if k[1] == time_segment}
    assert after != before
    assert run(sim, path).status == "succeeded"
    assert_memberships_exact(sim, path)
    assert sim.stats.requests[PER_CONTACT_SEGMENTS] == 0


def test_a_refresh_runs_when_due_and_always_on_a_full_sync(tmp_path: Path) -> None:
    sim, clock = simulator()
    path = tmp_path / "store.db"
    assert run(sim, path, membership_refresh="1h").status == "succeeded"
    sim.mutator.random_memberships(30)
    clock.advance(sim.quirks.search_lag_seconds + 60)
    soon = run(sim, path, membership_refresh="1h")
    assert soon.results["contact_segments"].requests == 0
    assert soon.results["contact_tags"].requests == 0
    clock.advance(3_600)
    due = run(sim, path, membership_refresh="1h")
    groups = len(sim.world.segments) + len(sim.world.tags)
    requests = due.results["contact_segments"].requests + due.results["contact_tags"].requests
    # One list per stream, then at least one page per group: Σ members ÷ 150 in all.
    members = len(sim.truth()["contact_segments"]) + len(sim.truth()["contact_tags"])
    assert groups + 2 <= requests <= groups + 2 + members // 150 + 1
    assert_memberships_exact(sim, path)
    sim.mutator.random_memberships(30)
    clock.advance(sim.quirks.search_lag_seconds + 60)
    full = run(sim, path, full=True, membership_refresh="1d")
    assert full.results["contact_tags"].requests > 0
    assert_memberships_exact(sim, path)


class ShortSegmentScans(httpx.AsyncBaseTransport):
    """Drops one member from every page of one segment's scan (its count stays whole)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, segment_id: str) -> None:
        self.inner, self.segment_id = inner, segment_id

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = orjson.loads(request.content) if request.content else {}
        query = body.get("query") or {}
        if query.get("field") != "segment_id" or query.get("value") != self.segment_id:
            return response
        page = orjson.loads(await response.aread())
        page["data"] = page["data"][1:]
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(200, headers=headers, content=orjson.dumps(page))


def test_a_scan_that_reads_fewer_members_than_intercom_counts_changes_nothing(
    tmp_path: Path,
) -> None:
    """A segment whose scans keep coming up short keeps its previous membership (the run
    says so); the other groups are replaced as usual."""
    sim, clock = simulator()
    path = tmp_path / "store.db"
    assert run(sim, path).status == "succeeded"
    store = open_test_store(path)
    try:
        (segment_id, members), *_ = store.query(
            "SELECT segment_id, count(*) FROM contact_segments GROUP BY segment_id "
            "ORDER BY count(*) DESC"
        )
        kept = store.query(
            "SELECT contact_id FROM contact_segments WHERE segment_id = ? AND deleted_at IS NULL",
            (segment_id,),
        )
    finally:
        store.close()
    clock.advance(60)
    outcome = run(sim, path, transport=ShortSegmentScans(sim.transport(), segment_id))
    assert "1 of" in (outcome.results["contact_segments"].warning or "")
    store = open_test_store(path)
    try:
        after = store.query(
            "SELECT contact_id FROM contact_segments WHERE segment_id = ? AND deleted_at IS NULL",
            (segment_id,),
        )
    finally:
        store.close()
    assert sorted(after) == sorted(kept) and len(kept) == members


@pytest.mark.parametrize("embedded", [True, False])
def test_company_segments_come_from_the_scroll_unless_the_company_lacks_them(
    tmp_path: Path, embedded: bool
) -> None:
    """Issue 11, Build 2: with the segment list in each company object, the scroll's pages
    are enough (zero per-company requests, fresh on every run); without it, each changed
    company's list is fetched."""
    sim, _ = simulator(Quirks(company_segments_embedded=embedded))
    path = tmp_path / "store.db"
    outcome = run(sim, path, streams=["companies", "company_segments"])
    assert outcome.status == "succeeded"
    fetched = sim.stats.requests["GET /companies/{id}/segments"]
    assert fetched == (0 if embedded else len(sim.world.companies))
    store = open_test_store(path)
    try:
        assert differences(store, sim.truth(), ("companies", "company_segments")) == {}
    finally:
        store.close()
