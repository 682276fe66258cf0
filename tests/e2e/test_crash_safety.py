"""kill -9 at random moments, re-run each time: the store still ends equal to the source.

The sync runs as a real `intercom-sync sync` process against a simulator served over
loopback (in this test process, so it survives the kills). Each run is killed with SIGKILL
after a random delay; a run that finishes first is simply run again (and killed while
it works incrementally). After 20+ kills, a last run completes and the store is compared
with the ground truth: every raw table, every edge, one entity per record, no duplicate
events, and `_sync_runs` lists the interrupted runs.

The simulator runs its least forgiving search mode: `starting_after` is a position in the
result set, and a record re-indexed after a change is absent from search for the lag. So
the kills land in anchored paging, in the count checks and re-reads after a pass, and in
full passes confirming their deletions.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from intercom_sync.simulator.service import FaultSpec, Quirks, WorldSpec
from intercom_sync.store import StoreUnavailable, open_store
from intercom_sync.store.base import Store
from intercom_sync.store.indexes import JsonKey
from intercom_sync.store.sql import for_store
from intercom_sync.streams.catalog import TABLE_STREAMS
from tests.e2e.harness import (
    StoreRef,
    differences,
    open_test_store,
    store_edges,
    store_url,
    truth_edges,
)
from tests.e2e.loopback import Loopback, cli, cli_env, loopback_simulator, run_cli

pytestmark = pytest.mark.slow

KILLS = 22
WORLD = WorldSpec.preset(
    "small",
    seed=7,
    conversations=200,
    contacts=250,
    companies=60,
    tickets=20,
    activity_logs=100,
    long_conversations=0,
)


def change_some(lb: Loopback, rng: random.Random) -> None:
    """Changes between runs (never deletes: only a full pass may mark those, and the last
    run here is incremental on purpose)."""
    m = lb.sim.mutator
    for _ in range(rng.randint(0, 12)):
        op = rng.choice(
            [
                "reply",
                "update_contact",
                "new_conversation",
                "update_company",
                "new_contact",
                "close",
                "assign",
            ]
        )
        conversation = rng.choice(list(lb.sim.world.conversations))
        if op == "reply":
            m.reply(conversation, rng.randint(1, 3), rng.choice(["user", "admin"]))
        elif op == "close":
            m.close(conversation)
        elif op == "assign":
            m.assign(conversation, rng.choice(list(lb.sim.world.admins)), None)
        elif op == "update_contact":
            m.update_contact(rng.choice(list(lb.sim.world.contacts)))
        elif op == "update_company":
            m.update_company(rng.choice(list(lb.sim.world.companies)))
        else:
            getattr(m, op)()


def run_status(db: StoreRef, pid: int) -> str | None:
    store = open_test_store(db)
    try:
        rows = store.query("SELECT status FROM _sync_runs WHERE pid = ?", (pid,))
        return str(rows[0][0]) if rows else None
    finally:
        store.close()


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, store_at: Callable[[str], StoreRef]
) -> None:
    """On SQLite and on PostgreSQL."""
    db = store_at("store")
    rng = random.Random(9)
    quirks = Quirks(search_cursor="positional", reindex_hides=True)
    with loopback_simulator(WORLD, faults=FaultSpec(latency_ms=2), quirks=quirks) as lb:
        env = cli_env()
        argv = cli("sync", "--base-url", lb.base_url, "--store", store_url(db))
        # How long a run of each kind took when last left alone: kills land within it.
        expected = {True: 1.5, False: 0.8}
        kills = killed_mid_run = 0
        while kills < KILLS:
            change_some(lb, rng)
            full = rng.random() < 0.5
            started = time.monotonic()
            proc = subprocess.Popen(
                [*argv, *(["--full"] if full else [])],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            if rng.random() < 0.8:  # most kills inside the run, the others during start-up
                wait_until_running(db, proc)
            time.sleep(rng.uniform(0.05, expected[full]))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                killed_mid_run += run_status(db, proc.pid) == "running" if store_exists(db) else 0
            else:
                assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
                expected[full] = time.monotonic() - started
            if proc.stderr:
                proc.stderr.close()

        lb.clock.advance(lb.sim.quirks.search_lag_seconds + 1)  # the index catches up
        final = run_cli(
            "sync", "--base-url", lb.base_url, "--store", store_url(db), env=env, cwd=tmp_path
        )
        assert final.returncode == 0, final.stdout + final.stderr
        truth = lb.sim.truth()
        world = lb.sim.world

        store = open_test_store(db)
        try:
            assert differences(store, truth, TABLE_STREAMS) == {}
            assert store_edges(store) == truth_edges(world)
            assert_one_entity_per_record(store, truth)
            assert_no_duplicate_events(store)
            statuses = dict(store.query("SELECT status, count(*) FROM _sync_runs GROUP BY status"))
            assert statuses.get("running", 0) == 0
            assert statuses.get("interrupted", 0) == killed_mid_run > 0
            assert store.query("SELECT count(*) FROM _pending_children") == [(0,)]
        finally:
            store.close()


def assert_one_entity_per_record(store: Store, truth: dict) -> None:
    for stream, entity_type in (
        ("contacts", "intercom_contact"),
        ("conversations", "intercom_conversation"),
        ("companies", "intercom_company"),
    ):
        rows = store.query(
            "SELECT entity_id FROM entities WHERE entity_type = ? AND deleted_at IS NULL",
            (entity_type,),
        )
        assert sorted(r[0] for r in rows) == sorted(k[0] for k in truth[stream])


def wait_until_running(db: StoreRef, proc: subprocess.Popen[str], limit: float = 60) -> None:
    """Until the run has recorded itself in the store (however slowly the process starts on
    a loaded machine), so the random delay after it falls inside the run."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        if store_exists(db) and _recorded_running(db, proc.pid):
            return
        time.sleep(0.02)


def _recorded_running(db: StoreRef, pid: int) -> bool:
    """Read-only and without touching the schema: the sync under test is writing it."""
    try:
        store = open_store(store_url(db), migrate=False)
    except StoreUnavailable:
        return False
    try:
        rows = store.query("SELECT status FROM _sync_runs WHERE pid = ?", (pid,))
    except Exception:  # the first run has not created its tables yet
        return False
    finally:
        store.close()
    return bool(rows) and rows[0][0] == "running"


def store_exists(db: StoreRef) -> bool:
    """A SQLite file exists once the first run made it; a database was made beforehand."""
    return isinstance(db, str) or db.exists()


def assert_no_duplicate_events(store: Store) -> None:
    """The same change is never recorded twice (under two ids)."""
    d = for_store(store.dialect)
    transition = d.field(JsonKey("transition", "text"), alias="")
    part = d.field(JsonKey("partId", "text"), alias="")
    dupes = store.query(
        f"SELECT entity_id, occurred_at, {transition}, {part}, count(*) FROM events "
        "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
    )
    assert dupes == []
    per_conversation = store.query(
        "SELECT count(DISTINCT entity_id) FROM events WHERE event_type = "
        f"'intercom_conversation_state_change' AND {transition} = 'created'"
    )[0][0]
    conversations = store.query("SELECT count(*) FROM conversations")[0][0]
    assert per_conversation == conversations
