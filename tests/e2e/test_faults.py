"""Fault injection (DESIGN §9; issue 3, Done-when 4): a faulty service still ends in an
exact copy, and one that keeps failing ends the run clearly without moving any cursor past
what was committed.

Everything runs in-process on a `ManualClock`: retries, backoffs and rate-limit pauses wait
on virtual time, so no test sleeps on the wall clock.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import typer
from rich.console import Console

from intercom_sync.clock import ManualClock
from intercom_sync.commands.sync_cmd import run_sync
from intercom_sync.engine.sync import SyncOutcome
from intercom_sync.simulator.service import FaultSpec, Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store.base import Store
from tests.e2e.harness import differences, open_test_store, run, settings_for, stored

pytestmark = pytest.mark.slow

CORE = ["admins", "teams", "contacts", "conversations", "conversation_parts"]
SEARCH_STREAMS = ("contacts", "conversations")
# No conversation longer than the 500-part cap: every part is then in the truth's reach.
WORLD = WorldSpec.preset("small", seed=5, long_conversations=0)
HARSH = FaultSpec(
    seed=3,
    error_500=0.034,
    error_502=0.033,
    error_503=0.033,
    connection_reset=0.05,
    truncated_body=0.05,
    storm_rate=0.005,
    storm_length=12,
)
SCROLL = "/companies/scroll"

ResponseHook = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class Tap(httpx.AsyncBaseTransport):
    """The simulator's transport, watched: counts what each request got back, can answer
    503 to every request after the first `fail_after`, and lets a test act on responses."""

    def __init__(
        self,
        sim: Simulator,
        *,
        fail_after: int | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        self.inner = sim.transport()
        self.fail_after = fail_after
        self.on_response = on_response
        self.requests = 0
        self.seen: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.fail_after is not None and self.requests > self.fail_after:
            self.seen["503 (keeps failing)"] += 1
            return unavailable(request)
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError:
            self.seen["connection reset"] += 1
            raise
        body = await response.aread()
        self.seen[outcome_kind(response.status_code, body)] += 1
        copy = httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )
        changed = self.on_response(request, copy) if self.on_response else None
        return changed or copy


def outcome_kind(status: int, body: bytes) -> str:
    if status >= 300:
        return str(status)
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return "broken body"
    return "ok"


def unavailable(request: httpx.Request) -> httpx.Response:
    body = {
        "type": "error.list",
        "errors": [{"code": "service_unavailable", "message": "Service Unavailable"}],
    }
    return httpx.Response(503, json=body, request=request)


def new_sim(world: WorldSpec = WORLD) -> Simulator:
    return Simulator(SimulatorConfig(world=world), clock=ManualClock(world.now))


def manual_clock(sim: Simulator) -> ManualClock:
    assert isinstance(sim.clock, ManualClock)
    return sim.clock


# -- a faulty service: exact data all the same --------------------------------------------


def test_5xx_resets_truncated_bodies_and_429_storms_end_in_exact_data(tmp_path: Path) -> None:
    sim = new_sim()
    sim.set_faults(HARSH)
    tap = Tap(sim)
    outcome = run(sim, tmp_path / "store.db", streams=CORE, transport=tap)

    # Every kind of fault really happened, and often.
    for kind in ("500", "502", "503", "429", "connection reset", "broken body"):
        assert tap.seen[kind] >= 10, (kind, tap.seen)
    assert outcome.status == "succeeded", outcome.errors
    assert outcome.retries > 100 and outcome.rate_limited > 0
    store = open_test_store(tmp_path / "store.db")
    try:
        assert differences(store, sim.truth(), CORE) == {}
        assert_one_entity_per_record(store, "contacts", "intercom_contact")
        assert_one_entity_per_record(store, "conversations", "intercom_conversation")
    finally:
        store.close()


def assert_one_entity_per_record(store: Store, table: str, entity_type: str) -> None:
    rows = store.query(
        "SELECT entity_id FROM entities WHERE entity_type = ? AND deleted_at IS NULL",
        (entity_type,),
    )
    entity_ids = [r[0] for r in rows]
    assert len(entity_ids) == len(set(entity_ids))
    assert set(entity_ids) == {k[0] for k in stored(store, table)}


# -- the companies scroll: every failure restarts it, never skips a page -----------------

COMPANY_WORLD = WorldSpec.preset("small", seed=11, long_conversations=0, companies=450)


def lose_one_scroll_answer(page: int) -> ResponseHook:
    """The server answers the `page`-th scroll page (and moves the scroll on), but the
    client gets a 500 instead: exactly the case where retrying the page would skip one."""
    pages = Counter[str]()

    def hook(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != SCROLL or response.status_code != 200:
            return None
        pages["ok"] += 1
        if pages["ok"] != page:
            return None
        return httpx.Response(500, json={"type": "error.list", "errors": []}, request=request)

    return hook


def test_company_scroll_restarts_under_faults_and_ends_exact(tmp_path: Path) -> None:
    sim = new_sim(COMPANY_WORLD)
    sim.set_faults(FaultSpec(seed=5, error_500=0.01, error_503=0.01, connection_reset=0.01))
    tap = Tap(sim, on_response=lose_one_scroll_answer(page=2))
    outcome = run(sim, tmp_path / "store.db", streams=["companies"], transport=tap)

    assert outcome.status == "succeeded", outcome.errors
    assert_companies_exact(tmp_path / "store.db", sim)
    assert outcome.results["companies"].detail.get("scroll_restarts", 0) >= 1
    assert sim.stats.scrolls_opened >= 2


def test_a_scroll_that_expires_midway_is_restarted_without_loss_or_duplicates(
    tmp_path: Path,
) -> None:
    sim = new_sim(COMPANY_WORLD)
    clock = manual_clock(sim)
    expiry = sim.quirks.scroll_idle_expiry_seconds
    pages = Counter[str]()

    def idle_after_second_page(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path == SCROLL and response.status_code == 200:
            pages["ok"] += 1
            if pages["ok"] == 2:  # the client dawdles: the server forgets the scroll
                clock.advance(expiry + 1)

    tap = Tap(sim, on_response=idle_after_second_page)
    outcome = run(sim, tmp_path / "store.db", streams=["companies"], transport=tap)

    assert outcome.status == "succeeded", outcome.errors
    assert_companies_exact(tmp_path / "store.db", sim)
    assert tap.seen["404"] == 1  # the expired scroll's next page
    assert sim.stats.scrolls_opened >= 2
    assert outcome.results["companies"].detail.get("scroll_restarts") == 1


def assert_companies_exact(db: Path, sim: Simulator) -> None:
    store = open_test_store(db)
    try:
        assert differences(store, sim.truth(), ["companies"]) == {}
        assert store.query("SELECT count(*) FROM companies") == [(len(sim.world.companies),)]
        assert_one_entity_per_record(store, "companies", "intercom_company")
    finally:
        store.close()


# -- a service that keeps failing: a clear stop, and no cursor past committed data -------


def change_records(sim: Simulator, rng: random.Random, count: int) -> None:
    """`count` contact and conversation changes, a few seconds apart, then let the search
    index catch up."""
    clock = manual_clock(sim)
    contacts, conversations = list(sim.world.contacts), list(sim.world.conversations)
    for _ in range(count):
        clock.advance(rng.uniform(1, 9))
        sim.mutator.update_contact(rng.choice(contacts))
        sim.mutator.reply(rng.choice(conversations), 1, rng.choice(["user", "admin"]))
    clock.advance(sim.quirks.search_lag_seconds + 1)


def failing_run(sim: Simulator, db: Path, fail_after: int) -> tuple[SyncOutcome | None, str]:
    """`intercom-sync sync`'s own code path against a service that fails after
    `fail_after` requests: the outcome (None when the run stopped outright) and what the
    user saw."""
    shown = io.StringIO()
    console = Console(file=shown, width=200, force_terminal=False)
    settings = settings_for(db, resources=CORE)
    tap = Tap(sim, fail_after=fail_after)
    try:
        outcome = run_sync(settings, full=False, console=console, transport=tap, clock=sim.clock)
    except typer.Exit as stop:
        assert stop.exit_code != 0
        return None, shown.getvalue()
    return outcome, shown.getvalue()


def assert_cursors_behind_committed_data(
    store: Store, sim: Simulator, before: dict[str, dict[str, Any]], outcome: SyncOutcome | None
) -> int:
    """No failed stream's cursor moved; a pass in progress resumes at or below the newest
    record it committed, and everything older than that is stored. Returns how many
    passes were left in progress."""
    after = store.all_states()
    results = outcome.results if outcome else {}
    truth = sim.truth()
    in_progress = 0
    for stream in SEARCH_STREAMS:
        old, new = before.get(stream) or {}, after.get(stream) or {}
        if stream not in results or results[stream].status != "succeeded":
            assert new.get("cursor") == old.get("cursor"), stream
            assert new.get("completed_at") == old.get("completed_at"), stream
        current = new.get("pass") or {}
        resume = current.get("resume_from")
        if resume is None:
            continue
        in_progress += 1
        have = stored(store, stream)
        assert resume <= max(updated for updated, _ in have.values()), stream
        older = {key for key, record in truth[stream].items() if record["updated_at"] < resume}
        missed = [k for k in older if k not in have or have[k][0] != truth[stream][k]["updated_at"]]
        assert missed == [], f"{stream}: {len(missed)} records below resume_from not stored"
    return in_progress


def test_a_server_that_keeps_failing_stops_clearly_without_moving_cursors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = new_sim()
    db = tmp_path / "store.db"
    assert run(sim, db, streams=CORE).status == "succeeded"
    change_records(sim, random.Random(4), count=500)

    # Fails from the very first request: nothing can start, one clear line, exit 1.
    store = open_test_store(db)
    before = store.all_states()
    outcome, _ = failing_run(sim, db, fail_after=0)
    assert outcome is None
    error = capsys.readouterr().err
    assert "GET /me" in error and "Service Unavailable" in error and "again later" in error
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error
    assert store.all_states() == before

    # Fails mid-run, at several moments: each stream that could not finish is reported,
    # the exit code is non-zero, and no cursor moves past what was committed.
    passes_in_progress = 0
    for fail_after in (3, 6, 9, 40):
        before = store.all_states()
        outcome, shown = failing_run(sim, db, fail_after)
        assert outcome is not None and outcome.exit_code != 0
        failed = [name for name, r in outcome.results.items() if r.status == "failed"]
        assert "contacts" in failed or "conversations" in failed
        for name in failed:
            assert f"failed: {name}: Service Unavailable; gave up after" in shown
        assert "run `intercom-sync sync` again" in shown
        passes_in_progress += assert_cursors_behind_committed_data(store, sim, before, outcome)
        last = store.query("SELECT status FROM _sync_runs ORDER BY started_at DESC LIMIT 1")
        assert last[0][0] in ("partial", "failed")
    assert passes_in_progress >= 2, "no run failed in the middle of a search pass"
    store.close()

    # The service recovers: the next run resumes and ends exact.
    final = run(sim, db, streams=CORE)
    assert final.status == "succeeded", final.errors
    store = open_test_store(db)
    try:
        assert differences(store, sim.truth(), CORE) == {}
        assert all(not (s.get("pass")) for s in store.all_states().values())
    finally:
        store.close()


class RefuseOneSliceLate(httpx.AsyncBaseTransport):
    """Holds the activity-log request whose slice contains `instant` until `release_after`
    more activity-log requests were answered, then refuses it with a 400: later slices,
    read concurrently, finish first."""

    def __init__(self, sim: Simulator, instant: int, release_after: int) -> None:
        self.inner = sim.transport()
        self.instant = instant
        self.release_after = release_after
        self.answered = 0
        self.answered_while_held = 0
        self.held = False
        self.released = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/admins/activity_logs"):
            return await self.inner.handle_async_request(request)
        after = int(request.url.params["created_at_after"])
        before = int(request.url.params["created_at_before"])
        if after <= self.instant < before:
            self.held = True
            await self.released.wait()
            body = {
                "type": "error.list",
                "errors": [{"code": "parameter_invalid", "message": "no"}],
            }
            return httpx.Response(400, json=body, request=request)
        response = await self.inner.handle_async_request(request)
        self.answered += 1
        self.answered_while_held += self.held
        if self.answered_while_held >= self.release_after:
            self.released.set()
        return response


def test_a_failed_activity_log_slice_holds_the_cursor_however_many_later_slices_finished(
    tmp_path: Path,
) -> None:
    sim = new_sim()
    oldest = min(int(r["created_at"]) for r in sim.world.activity_logs)
    path = tmp_path / "s.db"
    refusing = RefuseOneSliceLate(sim, oldest, release_after=5)
    first = run(sim, path, streams=["activity_logs"], transport=refusing)

    assert first.results["activity_logs"].status == "failed"
    assert refusing.answered_while_held >= 5  # later slices were read meanwhile
    store = open_test_store(path)
    cursor = (store.get_state("activity_logs") or {}).get("cursor")
    copied = stored(store, "activity_logs")
    store.close()
    assert copied  # and committed: the logs of later slices are in the store
    assert cursor is None or int(cursor) <= oldest + 1  # but the cursor never passed the gap

    second = run(sim, path, streams=["activity_logs"])
    assert second.results["activity_logs"].status == "succeeded"
    store = open_test_store(path)
    copied = stored(store, "activity_logs")
    store.close()
    assert set(copied) == {(str(r["id"]),) for r in sim.world.activity_logs}
