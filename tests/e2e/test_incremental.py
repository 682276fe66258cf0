"""Incremental syncs over many rounds of random changes end equal to the ground truth.

Each round changes the workspace three ways — well before the sync, inside the search
index's lag window (on the same calendar day as the cursor), and while the sync is paging
— and then checks what the sync promised: every record as the index showed it at
`sync start − lag` is stored (or a newer version), the requests made are bounded by the
pages of changed records, and parts are fetched for exactly the conversations that moved.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store.base import Store
from tests.e2e.harness import StoreRef, differences, open_test_store, run, stored

pytestmark = pytest.mark.slow

PER_PAGE = 150


class PagingMutations(httpx.AsyncBaseTransport):
    """Changes the workspace while a sync pages: every `every`-th API request first applies
    a few random mutations and lets a little simulated time pass."""

    def __init__(
        self,
        sim: Simulator,
        clock: ManualClock,
        rng: random.Random,
        every: int,
        *,
        deletions: bool = True,
    ) -> None:
        self.inner = sim.transport()
        self.sim, self.clock, self.rng, self.every = sim, clock, rng, every
        self.deletions = deletions
        self.requests = 0
        self.mutations = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests % self.every == 0:
            changed = self.sim.mutator.random(self.rng.randint(1, 3), deletions=self.deletions)
            self.mutations += len(changed)
            self.clock.advance(self.rng.uniform(0.5, 4.0))
        return await self.inner.handle_async_request(request)


def visible(sim: Simulator, kind: str, as_of: float) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in sim.world.search_view(kind, as_of).natural()}


def assert_nothing_visible_was_missed(store: Store, sim: Simulator, as_of: float) -> None:
    """Every record the index showed at `as_of` is stored in that version or a newer one."""
    for kind in ("contacts", "conversations", "tickets"):
        have = stored(store, kind)
        gone = set(sim.world.deleted.get(kind, {}))
        for rid, record in visible(sim, kind, as_of).items():
            if rid in gone:
                continue
            assert (rid,) in have, f"{kind} {rid} (updated_at {record['updated_at']}) was missed"
            updated_at, raw = have[(rid,)]
            assert updated_at >= record["updated_at"], f"{kind} {rid} is older than visible"
            if updated_at == record["updated_at"]:
                assert raw == record, f"{kind} {rid} differs from its visible version"


def local_day(ts: float, zone: str) -> Any:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).date()


def assert_requests_bounded(
    outcome: Any, sim: Simulator, cursor: dict[str, int], extra: int
) -> None:
    """Search pages are bounded by the records changed since the cursor (contacts: since the
    start of the cursor's local day, as day-granular search must ask)."""
    zone = sim.world.spec.timezone
    for kind in ("conversations", "contacts", "tickets"):
        records = sim.world.records(kind).values()
        if kind == "contacts":
            first_day = local_day(cursor[kind], zone)
            changed = sum(1 for r in records if local_day(r["updated_at"], zone) >= first_day)
        else:
            changed = sum(1 for r in records if r["updated_at"] >= cursor[kind])
        bound = math.ceil((changed + extra) / PER_PAGE) + 1
        result = outcome.results[kind]
        # Every pass is checked against Intercom's counts (at least one request); the
        # paging itself stays bounded by what changed.
        checking = result.detail["check_requests"]
        assert checking >= 1
        made = result.requests - checking
        assert made <= bound, f"{kind}: {made} search requests for {changed} changed records"


def cursors(store: Store) -> dict[str, int]:
    return {
        s: int((store.get_state(s) or {}).get("cursor") or 0)
        for s in ("conversations", "contacts", "tickets")
    }


def test_incremental_rounds_end_equal_to_the_ground_truth(
    store_at: Callable[[str], StoreRef],
) -> None:
    """On SQLite and on PostgreSQL."""
    spec = WorldSpec.preset("small", seed=5)
    clock = ManualClock(spec.now)
    sim = Simulator(SimulatorConfig(world=spec), clock=clock)
    lag = sim.quirks.search_lag_seconds
    path = store_at("store")
    rng = random.Random(20261121)
    assert run(sim, path).status == "succeeded"

    for _ in range(10):
        sim.mutator.random(rng.randint(5, 40))
        clock.advance(rng.uniform(lag + 1, 2 * 3600))
        sim.mutator.random(rng.randint(1, 15))  # inside the lag window of the next sync
        clock.advance(rng.uniform(0, lag / 2))
        store = open_test_store(path)
        before_cursor = cursors(store)
        before_conversations = {k: v[0] for k, v in stored(store, "conversations").items()}
        store.close()

        paging = PagingMutations(sim, clock, rng, every=rng.randint(3, 9))
        sync_start = clock.now()
        outcome = run(sim, path, transport=paging)
        assert outcome.status == "succeeded", outcome.errors

        store = open_test_store(path)
        try:
            assert_nothing_visible_was_missed(store, sim, sync_start - lag)
            assert_requests_bounded(outcome, sim, before_cursor, extra=3 * paging.mutations)
            after = {k: v[0] for k, v in stored(store, "conversations").items()}
            moved = {k for k, ts in after.items() if before_conversations.get(k) != ts}
            assert outcome.results["conversation_parts"].requests == len(moved)
            assert store.pending_children("conversation_parts") == []
        finally:
            store.close()

    clock.advance(lag + 1)  # quiet: the index catches up with every write
    assert run(sim, path).status == "succeeded"
    assert_store_matches_truth(path, sim)


def assert_store_matches_truth(path: StoreRef, sim: Simulator) -> None:
    truth = sim.truth()
    store = open_test_store(path)
    try:
        # An incremental pass never marks deletes, so deleted records may remain; anything
        # else must be exactly the truth.
        for kind in ("contacts", "companies"):
            deleted = {(rid,) for rid in sim.world.deleted.get(kind, {})}
            extra = set(stored(store, kind)) - set(truth[kind])
            assert extra <= deleted, f"{kind}: {sorted(extra - deleted)[:3]} are not deleted"
            truth[kind] = {**truth[kind], **{k: stored(store, kind)[k][1] for k in extra}}
        streams = [
            "admins",
            "teams",
            "tags",
            "segments",
            "contacts",
            "conversations",
            "companies",
            "tickets",
            "activity_logs",
        ]
        assert differences(store, truth, streams) == {}
        assert_parts_complete_or_reported(store, truth)
    finally:
        store.close()


def assert_parts_complete_or_reported(store: Store, truth: dict[str, Any]) -> None:
    """Every stored part is exact; the parts not stored are exactly those reported missing
    (history beyond the 500-part cap that no sync could see)."""
    have = stored(store, "conversation_parts")
    assert set(have) <= set(truth["conversation_parts"])
    gaps = dict(store.query("SELECT conversation_id, missing FROM _parts_gaps"))
    missing_total = len(truth["conversation_parts"]) - len(have)
    assert missing_total == sum(gaps.values())
    for key in have:
        assert have[key][1] == truth["conversation_parts"][key]
