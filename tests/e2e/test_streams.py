"""Issue 4: parts beyond the 500-part cap, request economy, deletes, scroll across processes."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec
from intercom_sync.streams.catalog import TABLE_STREAMS
from tests.e2e.harness import StoreRef, differences, open_test_store, run, store_url
from tests.e2e.loopback import cli, cli_env, loopback_simulator

pytestmark = pytest.mark.slow


def make_sim(preset: str = "tiny", seed: int = 2, **sizes: int) -> tuple[Simulator, ManualClock]:
    spec = WorldSpec.preset(preset, seed=seed, **sizes)
    clock = ManualClock(spec.now)
    return Simulator(SimulatorConfig(world=spec), clock=clock), clock


def stored_part_ids(path: Path, conversation_id: str) -> set[str]:
    store = open_test_store(path)
    try:
        rows = store.query(
            "SELECT id FROM conversation_parts WHERE conversation_id = ?", (conversation_id,)
        )
        return {r[0] for r in rows}
    finally:
        store.close()


def gaps(path: Path) -> dict[str, int]:
    store = open_test_store(path)
    try:
        return dict(store.query("SELECT conversation_id, missing FROM _parts_gaps"))
    finally:
        store.close()


def short_conversation(sim: Simulator) -> str:
    return next(cid for cid, parts in sim.world.parts.items() if 3 <= len(parts) < 50)


def test_parts_history_accumulates_beyond_the_cap_across_syncs(tmp_path: Path) -> None:
    sim, clock = make_sim()
    path = tmp_path / "store.db"
    lag = sim.quirks.search_lag_seconds
    assert run(sim, path).status == "succeeded"
    growing = short_conversation(sim)
    while len(sim.world.parts[growing]) < 1_200:
        add = min(450, 1_200 - len(sim.world.parts[growing]))
        sim.mutator.reply(growing, n_parts=add, author="user")
        clock.advance(lag + 1)
        assert run(sim, path).status == "succeeded"
    every_part = {str(p["id"]) for p in sim.world.parts[growing]}
    assert len(every_part) == 1_200
    assert stored_part_ids(path, growing) == every_part
    assert growing not in gaps(path)

    # More than 500 new parts between two syncs: the oldest of them cannot be fetched any
    # more; the conversation is reported incomplete with exactly how many are missing.
    jumped = next(c for c in sim.world.parts if c != growing and 3 <= len(sim.world.parts[c]) < 50)
    before = len(sim.world.parts[jumped])
    sim.mutator.reply(jumped, n_parts=700, author="admin")
    clock.advance(lag + 1)
    assert run(sim, path).status == "succeeded"
    total = before + 700
    have = stored_part_ids(path, jumped)
    assert len(have) == before + 500
    assert gaps(path)[jumped] == total - len(have) == 200
    # The status command reports it.
    from intercom_sync.commands.status_cmd import store_status

    store = open_test_store(path)
    try:
        flags = {s.stream: s.flags for s in store_status(store).streams}
    finally:
        store.close()
    assert flags["conversation_parts"] == [
        f"{len(gaps(path))} conversations incomplete ({sum(gaps(path).values())} parts missing)"
    ]


def test_a_second_sync_without_changes_only_reads_lists_searches_and_the_scroll(
    tmp_path: Path,
) -> None:
    sim, clock = make_sim("small", seed=4)
    path = tmp_path / "store.db"
    assert run(sim, path, membership_refresh="1h").status == "succeeded"
    clock.advance(sim.quirks.search_lag_seconds + 60)
    store = open_test_store(path)
    contacts_cursor = int(store.get_state("contacts")["cursor"])
    store.close()
    second = run(sim, path, membership_refresh="1h")
    assert second.status == "succeeded"
    per_stream = {name: r.requests for name, r in second.results.items()}
    scroll_pages = math.ceil(len(sim.world.companies) / sim.quirks.scroll_page_size) + 1
    # Contact search compares dates by calendar day: it re-reads the cursor's whole day.
    zone = ZoneInfo(sim.world.spec.timezone)
    day = datetime.fromtimestamp(contacts_cursor, zone).date()
    same_day = sum(
        1
        for c in sim.world.contacts.values()
        if datetime.fromtimestamp(c["updated_at"], zone).date() >= day
    )
    contact_pages = max(1, math.ceil(same_day / 150))
    assert per_stream == {
        "admins": 1,
        "teams": 1,
        "tags": 1,
        "segments": 1,
        "contact_attributes": 1,
        "company_attributes": 1,
        # Each search stream: its pages, and the counts that check the copy against
        # Intercom's: the history before this pass and the pass's own span, one request
        # each (nothing disagrees, so nothing more). Contacts count whole days, and this
        # pass's span is still today: only the history is counted.
        "contacts": contact_pages + 1,
        "conversations": 1 + 2,
        "tickets": 1 + 2,  # one page saying: nothing new
        "activity_logs": 1,  # one slice since the cursor
        "companies": scroll_pages,  # the scroll has no filter: read whole, nothing written
        "conversation_parts": 0,
        "company_segments": 0,  # the scroll's pages carry every company's segments
        "contact_companies": 0,
        # Memberships are re-scanned every `membership_refresh` (here 1 h), not every run.
        "contact_segments": 0,
        "contact_tags": 0,
    }
    assert second.requests == sum(per_stream.values()) + 1  # + GET /me

    # After changes, parts are fetched for exactly the conversations that changed.
    changed = set()
    for cid in list(sim.world.conversations)[:25]:
        sim.mutator.reply(cid, n_parts=1, author="user")
        changed.add(cid)
    for cid in list(sim.world.conversations)[25:40]:
        sim.mutator.close(cid)
        changed.add(cid)
    clock.advance(sim.quirks.search_lag_seconds + 60)
    gets_before = sim.stats.conversation_gets
    third = run(sim, path)
    assert third.results["conversation_parts"].requests == len(changed)
    assert sim.stats.conversation_gets - gets_before == len(changed)


def test_deletes_are_marked_by_a_full_pass_and_never_by_an_incremental_one(
    tmp_path: Path,
) -> None:
    sim, clock = make_sim("tiny", seed=6)
    path = tmp_path / "store.db"
    assert run(sim, path).status == "succeeded"
    contacts = list(sim.world.contacts)[:4]
    companies = list(sim.world.companies)[:3]
    for cid in contacts:
        sim.mutator.delete_contact(cid)
    for cid in companies:
        sim.mutator.delete_company(cid)
    clock.advance(sim.quirks.search_lag_seconds + 1)

    def deleted(table: str) -> set[str]:
        store = open_test_store(path)
        try:
            rows = store.query(f"SELECT id FROM {table} WHERE deleted_at IS NOT NULL")
            return {r[0] for r in rows}
        finally:
            store.close()

    assert run(sim, path).status == "succeeded"  # incremental
    assert deleted("contacts") == set() and deleted("companies") == set()

    full = run(sim, path, full=True)
    assert full.status == "succeeded"
    assert deleted("contacts") == set(contacts)
    assert deleted("companies") == set(companies)
    assert full.results["contacts"].deleted == len(contacts)
    store = open_test_store(path)
    try:
        gone = store.query(
            "SELECT entity_id FROM entities WHERE entity_type = 'intercom_contact' "
            "AND deleted_at IS NOT NULL"
        )
        assert {r[0] for r in gone} == set(contacts)
        # Nothing was hard-deleted: the rows are still there, only marked.
        kept = store.query("SELECT count(*) FROM contacts WHERE deleted_at IS NOT NULL")
        assert kept == [(len(contacts),)]
        # Live rows are exactly the workspace (parts aside: tiny has a conversation longer
        # than the cap).
        streams = [s for s in TABLE_STREAMS if s != "conversation_parts"]
        assert differences(store, sim.truth(), streams) == {}
    finally:
        store.close()


def test_two_processes_at_once_never_hold_two_scrolls_and_both_end_exact(
    tmp_path: Path, store_at: Callable[[str], StoreRef]
) -> None:
    """Two `intercom-sync sync` processes start together: one pair shares a store (the store
    lock queues the scrolls), and a third process has its own store (the service's
    `scroll_exists` answer makes it wait). All finish with exact data, on SQLite and on
    PostgreSQL."""
    world = WorldSpec.preset(
        "small", seed=8, companies=450, contacts=300, conversations=150, long_conversations=0
    )
    with loopback_simulator(world) as lb:
        env = cli_env()
        shared = store_at("shared")
        alone = store_at("alone")
        procs = [
            subprocess.Popen(
                cli("sync", "--base-url", lb.base_url, "--store", store_url(db)),
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for db in (shared, shared, alone)
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, out[-2000:] + err[-2000:]
        assert lb.sim.stats.max_concurrent_scrolls == 1
        assert lb.sim.stats.scrolls_opened >= 3
        truth = lb.sim.truth()
        for db in (shared, alone):
            store = open_test_store(db)
            try:
                assert differences(store, truth, TABLE_STREAMS) == {}
            finally:
                store.close()
