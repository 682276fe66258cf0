"""Completeness under every cursor and index behaviour Intercom leaves undocumented (DESIGN §5).

The simulator offers each plausible behaviour as a mode: a keyset `starting_after` (after
the last record returned), a positional one (an offset into the result set as it is when
the next page is asked for) with records absent while they are re-indexed, and a search
index stalled hours behind the server's clock. The sync must end exact under each of them,
with faults on and the workspace changing while it pages — and never mark a live record
deleted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import FaultSpec, Quirks, Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store.base import Store
from intercom_sync.streams.catalog import TABLE_STREAMS
from tests.e2e.harness import differences, open_test_store, run, stored
from tests.e2e.loopback import cli_env, loopback_simulator, run_cli
from tests.e2e.test_incremental import PagingMutations

pytestmark = pytest.mark.slow

WORLD = WorldSpec.preset(
    "small",
    seed=11,
    contacts=500,
    conversations=400,
    companies=60,
    tickets=40,
    activity_logs=80,
    long_conversations=0,
)
FAULTS = FaultSpec(seed=5, error_500=0.03, connection_reset=0.02, truncated_body=0.02)
STALL = 3 * 3_600.0
MODES: dict[str, Quirks] = {
    "keyset": Quirks(),
    "positional-reindex-hides": Quirks(search_cursor="positional", reindex_hides=True),
    "stalled-index": Quirks(search_stall_seconds=STALL),
}
SEARCHED = ("contacts", "conversations", "tickets")


def simulator(quirks: Quirks, *, faults: FaultSpec | None = None) -> tuple[Simulator, ManualClock]:
    clock = ManualClock(WORLD.now)
    config = SimulatorConfig(world=WORLD, quirks=quirks, faults=faults or FaultSpec())
    return Simulator(config, clock=clock), clock


def open_store_at(path: Path) -> Store:
    return open_test_store(path)


def assert_no_live_record_marked_deleted(sim: Simulator, path: Path) -> None:
    store = open_store_at(path)
    try:
        for stream in (*SEARCHED, "companies"):
            marked = {
                r[0] for r in store.query(f"SELECT id FROM {stream} WHERE deleted_at IS NOT NULL")
            }
            live = marked & set(sim.world.records(stream))
            assert not live, f"{stream}: live records marked deleted: {sorted(live)[:5]}"
    finally:
        store.close()


def assert_exact(sim: Simulator, path: Path, streams: tuple[str, ...] = TABLE_STREAMS) -> None:
    store = open_store_at(path)
    try:
        assert differences(store, sim.truth(), streams) == {}
    finally:
        store.close()


def verification(path: Path, stream: str) -> dict[str, Any]:
    store = open_store_at(path)
    try:
        return store.get_state(f"verify:{stream}") or {}
    finally:
        store.close()


@pytest.mark.parametrize("mode", list(MODES))
def test_a_full_sync_and_three_incrementals_end_exact_in_every_mode(
    tmp_path: Path, mode: str
) -> None:
    """Done-when 1 of issue 10: with faults (5xx, resets, truncated bodies) and changes
    while paging, every stream ends equal to the ground truth, and no run ever marks a live
    record deleted. Changes between the runs delete nothing: only a full pass settles
    deletions (see the test of deletions below)."""
    sim, clock = simulator(MODES[mode], faults=FAULTS)
    path = tmp_path / "store.db"
    rng = random.Random(hash(mode) % 1000)
    lag = sim.quirks.search_lag_seconds
    paging = PagingMutations(sim, clock, rng, every=4, deletions=False)
    assert run(sim, path, transport=paging).status == "succeeded"
    assert_no_live_record_marked_deleted(sim, path)
    for round_ in range(3):
        sim.mutator.random(rng.randint(10, 30), deletions=False)
        clock.advance(rng.uniform(lag + 1, 3_600))
        sim.mutator.random(rng.randint(1, 8), deletions=False)  # inside the next run's lag
        last = round_ == 2
        if last:
            # The index catches up before the last run: whatever it hid or held back is
            # now there to be read.
            sim.set_quirks(search_stall_seconds=0)
            clock.advance(lag + 1)
        transport: httpx.AsyncBaseTransport = (
            sim.transport() if last else PagingMutations(sim, clock, rng, every=5, deletions=False)
        )
        assert run(sim, path, transport=transport).status == "succeeded"
        assert_no_live_record_marked_deleted(sim, path)
    assert_exact(sim, path)


def test_anchored_paging_alone_misses_nothing_behind_a_positional_cursor(tmp_path: Path) -> None:
    """Guards rule 1 (one paging loop, anchored on the last `(updated_at, id)` read): with a
    positional cursor and records vanishing while re-indexed, a full sync of conversations
    and tickets reads every record the index shows. A record the server's cursor skipped
    would be older than any cursor, so only a count could find it: after the index catches
    up, the next run's count finds nothing missing, and the store is exact. Following the
    server's cursor instead, that count finds the conversation the pages skipped."""
    clock = ManualClock(WORLD.now)
    world = WorldSpec.preset("small", seed=12, conversations=3_000, tickets=600)
    config = SimulatorConfig(world=world, quirks=MODES["positional-reindex-hides"])
    sim = Simulator(config, clock=clock)
    path = tmp_path / "store.db"
    paging = PagingMutations(sim, clock, random.Random(3), every=1, deletions=False)
    streams = ["conversations", "tickets"]
    transport = OnlyWhilePaging(paging, sim.transport())
    assert run(sim, path, transport=transport, streams=streams).status == "succeeded"
    assert paging.mutations > 20
    sim.set_quirks(reindex_hides=False)
    clock.advance(sim.quirks.search_lag_seconds + 1)
    assert run(sim, path, streams=streams).status == "succeeded"
    for stream in streams:
        checked = verification(path, stream)
        assert checked["missing"] == 0 and checked["agrees"], checked
    assert_exact(sim, path, ("conversations", "tickets"))


class OnlyWhilePaging(httpx.AsyncBaseTransport):
    """Sends a search's pages through `paging` (which changes the workspace first), and
    everything else — the counts of the check after the pass — straight through."""

    def __init__(self, paging: httpx.AsyncBaseTransport, plain: httpx.AsyncBaseTransport) -> None:
        self.paging, self.plain = paging, plain

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else {}
        counting = (body.get("pagination") or {}).get("per_page") == 1
        inner = self.plain if counting else self.paging
        return await inner.handle_async_request(request)


def test_a_stalled_index_costs_a_re_read_never_a_record(tmp_path: Path) -> None:
    """Guards rule 2 (a cursor never ahead of the data): the index shows the workspace
    three hours late while `Date` says now. Had the cursor become `start − search_lag`,
    every record changed in those hours would sit behind it for good — not missing, just
    stale, which no count can see. Stored as the newest record read, it is re-read."""
    sim, clock = simulator(MODES["stalled-index"])
    path = tmp_path / "store.db"
    assert run(sim, path, streams=SEARCHED).status == "succeeded"
    for _ in range(2):
        sim.mutator.random(40, deletions=False)
        clock.advance(1_800)
        assert run(sim, path, streams=SEARCHED).status == "succeeded"
    as_of = sim.runtime.search_as_of()
    store = open_store_at(path)
    try:
        for stream in SEARCHED:
            cursor = int((store.get_state(stream) or {})["cursor"])
            shown = max(r["updated_at"] for r in sim.world.search_view(stream, as_of).natural())
            assert cursor <= shown, f"{stream}: cursor ahead of the newest record search shows"
            assert cursor < clock.now() - sim.quirks.search_lag_seconds - 3_600
    finally:
        store.close()
    sim.set_quirks(search_stall_seconds=0)  # the incident ends
    clock.advance(sim.quirks.search_lag_seconds + 1)
    assert run(sim, path, streams=SEARCHED).status == "succeeded"
    assert_exact(sim, path, SEARCHED)


def test_counts_find_and_re_read_what_paging_by_day_missed(tmp_path: Path) -> None:
    """Guards rule 3 (every pass reconciled with Intercom's counts): contact search compares
    dates by day, so its pages follow the server's cursor, and a positional one skips a
    contact when an earlier one is re-indexed. While that one is out of the index, the two
    cancel out in the counts (the store holds one Intercom does not count, and lacks one it
    does, a page apart); once it is back, the next run's count finds the gap and re-reads
    it. The skipped contact is older than any cursor: nothing but the count finds it."""
    sim, clock = simulator(MODES["positional-reindex-hides"])
    path = tmp_path / "store.db"
    mover = MoveAReturnedContact(sim, clock)
    assert run(sim, path, transport=mover, streams=["contacts"]).status == "succeeded"
    assert mover.moved >= 2
    clock.advance(sim.quirks.search_lag_seconds + 1)
    assert run(sim, path, streams=["contacts"]).status == "succeeded"
    checked = verification(path, "contacts")
    assert checked["missing"] >= mover.moved and checked["reread"] > 0, checked
    assert checked["complete"]
    assert_exact(sim, path, ("contacts",))


class MoveAReturnedContact(httpx.AsyncBaseTransport):
    """Before each next page of the contacts pass, changes a contact an earlier page
    returned: re-indexed, it leaves the result set, and a positional cursor then skips the
    contact that slides into its place."""

    def __init__(self, sim: Simulator, clock: ManualClock) -> None:
        self.inner, self.sim, self.clock = sim.transport(), sim, clock
        self.returned: list[str] = []
        self.moved = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else {}
        pagination = body.get("pagination") or {}
        paging = request.url.path == "/contacts/search" and pagination.get("per_page", 0) > 1
        if paging and pagination.get("starting_after") and self.returned:
            self.clock.advance(1)
            self.sim.mutator.update_contact(self.returned.pop(0))
            self.moved += 1
        response = await self.inner.handle_async_request(request)
        if paging and response.status_code == 200:
            page = orjson.loads(await response.aread())
            self.returned += [c["id"] for c in page.get("data", [])][:1]
        return response


def test_a_full_pass_that_saw_fewer_records_than_intercom_counts_marks_nothing(
    tmp_path: Path,
) -> None:
    """Guards: a full pass marks nothing deleted unless its counts agree. A proxy drops one
    conversation from every search page (Intercom still counts it); the full pass is
    incomplete, so even a conversation really gone is not marked — until a pass that sees
    everything."""
    sim, clock = simulator(Quirks())
    path = tmp_path / "store.db"
    assert run(sim, path, streams=["contacts"]).status == "succeeded"
    hidden = sorted(sim.world.contacts)[7]
    deleted = sorted(sim.world.contacts)[9]
    sim.mutator.delete_contact(deleted)
    clock.advance(sim.quirks.search_lag_seconds + 1)
    proxy = DropFromSearch(sim.transport(), hidden)
    outcome = run(sim, path, full=True, transport=proxy, streams=["contacts"])
    assert proxy.dropped > 0
    assert "no row was marked deleted" in (outcome.results["contacts"].warning or "")
    store = open_store_at(path)
    try:
        assert store.query("SELECT count(*) FROM contacts WHERE deleted_at IS NOT NULL") == [(0,)]
    finally:
        store.close()
    full = run(sim, path, full=True, streams=["contacts"])
    assert full.results["contacts"].deleted == 1
    assert_no_live_record_marked_deleted(sim, path)


class DropFromSearch(httpx.AsyncBaseTransport):
    """Removes one record from every search page, leaving `total_count` alone."""

    def __init__(self, inner: httpx.AsyncBaseTransport, record_id: str) -> None:
        self.inner, self.record_id, self.dropped = inner, record_id, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/search") or response.status_code != 200:
            return response
        body = orjson.loads(await response.aread())
        for key in ("data", "conversations", "tickets"):
            if isinstance(body.get(key), list):
                kept = [r for r in body[key] if r.get("id") != self.record_id]
                self.dropped += len(body[key]) - len(kept)
                body[key] = kept
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=orjson.dumps(body))


def test_a_record_out_of_the_index_during_a_full_pass_is_confirmed_not_deleted(
    tmp_path: Path,
) -> None:
    """Guards: a full pass marks a row it did not see only when a `GET` says it is gone. A
    conversation re-indexed while the pass goes by is absent from both the pages and the
    counts — they agree — yet it is alive."""
    sim, clock = simulator(Quirks(reindex_hides=True))
    path = tmp_path / "store.db"
    assert run(sim, path, streams=["conversations"]).status == "succeeded"
    clock.advance(sim.quirks.search_lag_seconds + 1)
    moving = sorted(sim.world.conversations)[3]
    sim.mutator.close(moving)  # within the lag: absent from search for now
    full = run(sim, path, full=True, streams=["conversations"])
    assert full.status == "succeeded" and full.results["conversations"].deleted == 0
    assert_no_live_record_marked_deleted(sim, path)
    store = open_store_at(path)
    try:
        have = stored(store, "conversations")
    finally:
        store.close()
    assert have[(moving,)][1] == sim.world.conversations[moving]  # written from the GET


def test_deletions_are_settled_by_the_next_full_pass_in_every_mode(tmp_path: Path) -> None:
    """Deleted contacts leave the store's count above Intercom's until a full pass; the
    incremental runs remember the rows they found absent (so later checks cost one count),
    and the full pass confirms each one before marking it."""
    sim, clock = simulator(MODES["positional-reindex-hides"])
    path = tmp_path / "store.db"
    assert run(sim, path).status == "succeeded"
    gone = sorted(sim.world.contacts)[:5]
    for contact_id in gone:
        sim.mutator.delete_contact(contact_id)
    clock.advance(sim.quirks.search_lag_seconds + 1)
    first = run(sim, path)
    assert verification(path, "contacts")["absent"] == len(gone)
    again = run(sim, path)
    assert again.results["contacts"].detail["check_requests"] <= 2  # found once, not again
    assert first.results["contacts"].deleted == again.results["contacts"].deleted == 0
    full = run(sim, path, full=True)
    assert full.results["contacts"].deleted == len(gone)
    assert_no_live_record_marked_deleted(sim, path)
    assert_exact(sim, path)


def test_verify_names_rows_deleted_by_hand_and_the_next_sync_restores_them(
    tmp_path: Path,
) -> None:
    """Done-when 2 of issue 10, through the real command line."""
    db = tmp_path / "store.db"
    with loopback_simulator(WORLD) as lb:
        env = cli_env()
        store_args = ["--base-url", lb.base_url, "--store", f"sqlite:///{db}"]
        synced = run_cli("sync", *store_args, env=env, cwd=tmp_path)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        clean = run_cli("verify", *store_args, env=env, cwd=tmp_path)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert clean.stdout.count("complete") == 3
        removed = delete_some_rows(db, {"contacts": 6, "conversations": 4, "tickets": 2})
        found = run_cli("verify", *store_args, env=env, cwd=tmp_path)
        assert found.returncode == 1, found.stdout + found.stderr
        lines = found.stdout.strip().splitlines()
        for stream, count in removed.items():
            (line,) = [x for x in lines if x.startswith(f"{stream}:")]
            assert "DISAGREES" in line and f"({count} missing)" in line, line
        as_json = run_cli("verify", "--json", *store_args, env=env, cwd=tmp_path)
        assert as_json.returncode == 1
        report = {r["stream"]: r for r in orjson.loads(as_json.stdout)}
        assert {s: r["intercom"] - r["store"] for s, r in report.items()} == removed
        repaired = run_cli("sync", *store_args, env=env, cwd=tmp_path)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        after = run_cli("verify", *store_args, env=env, cwd=tmp_path)
        assert after.returncode == 0, after.stdout + after.stderr
        status = run_cli("status", "--json", "--store", f"sqlite:///{db}", env=env, cwd=tmp_path)
        shown = {s["stream"]: s for s in orjson.loads(status.stdout)["streams"]}
        assert shown["contacts"]["verified"]["agrees"] is True
        assert shown["contacts"]["verified"]["source"] == "verify"
        truth = lb.sim.truth()
    store = open_store_at(db)
    try:
        assert differences(store, truth, SEARCHED) == {}
    finally:
        store.close()


def delete_some_rows(db: Path, counts: dict[str, int]) -> dict[str, int]:
    """Delete rows by hand, well inside what every check covers (not the cursor's day)."""
    store = open_store_at(db)
    try:
        removed: dict[str, int] = {}
        for table, n in counts.items():
            cursor = int((store.get_state(table) or {})["cursor"])
            ids = [
                r[0]
                for r in store.query(
                    f"SELECT id FROM {table} WHERE updated_at < ? ORDER BY id LIMIT ?",
                    (cursor - 3 * 86_400, n),
                )
            ]
            delete: Callable[..., Any] = store._conn.execute  # type: ignore[attr-defined]
            delete(f"DELETE FROM {table} WHERE id IN ({', '.join('?' * len(ids))})", ids)
            removed[table] = len(ids)
        return removed
    finally:
        store.close()


def test_verify_of_a_store_never_synced_says_so_and_exits_0(tmp_path: Path) -> None:
    with loopback_simulator(WORLD) as lb:
        result = run_cli(
            "verify",
            "--base-url",
            lb.base_url,
            "--store",
            f"sqlite:///{tmp_path / 'empty.db'}",
            env=cli_env(),
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("never synced into this store") == 3
