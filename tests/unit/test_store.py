"""The store's promises: one transaction per page, newer wins, deletes only by full passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.store import PageWrite, PartsGap, RecordWrite, RunRecord, Shapes, open_store
from intercom_sync.store.base import Store
from intercom_sync.store.schema import RAW_TABLES


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def contact(cid: str, updated_at: int, **extra: Any) -> RecordWrite:
    """A contacts row with only the key, updated_at and raw set."""
    table = RAW_TABLES["contacts"]
    raw = {"id": cid, "updated_at": updated_at, **extra}
    row = (cid, *([None] * len(table.columns)), updated_at, orjson.dumps(raw).decode())
    entity = ("intercom", "intercom_contact", cid, orjson.dumps(extra).decode(), updated_at * 1000)
    return RecordWrite((cid,), updated_at, row, Shapes(entities=[entity]))


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return store.query(sql, params)


def test_migrate_is_idempotent_and_records_the_schema_version(store: Store) -> None:
    store.migrate()
    store.migrate()
    assert rows(store, "SELECT version FROM _schema_version") == [(1,)]
    tables = {r[0] for r in rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(RAW_TABLES) <= tables
    assert {"entities", "events", "metrics", "edges", "distributions", "rollups"} <= tables
    assert {"_sync_state", "_sync_runs", "_schema_version"} <= tables


def test_wal_mode(store: Store) -> None:
    assert rows(store, "PRAGMA journal_mode") == [("wal",)]


def test_page_and_checkpoint_commit_together(store: Store) -> None:
    store.apply(
        PageWrite(table="contacts", records=[contact("a", 10)], state={"contacts": {"cursor": 5}}),
        now=100,
    )
    assert rows(store, "SELECT id, updated_at, synced_at FROM contacts") == [("a", 10, 100)]
    assert store.get_state("contacts") == {"cursor": 5}


def test_a_failing_page_writes_nothing_not_even_its_checkpoint(store: Store) -> None:
    bad = contact("b", 20)
    bad.row = bad.row[:-1]  # one value short: the INSERT fails mid-transaction
    write = PageWrite(
        table="contacts", records=[contact("a", 10), bad], state={"contacts": {"cursor": 99}}
    )
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        store.apply(write, now=1)
    assert rows(store, "SELECT count(*) FROM contacts") == [(0,)]
    assert store.get_state("contacts") is None


def test_an_older_version_never_replaces_a_newer_one(store: Store) -> None:
    store.apply(PageWrite(table="contacts", records=[contact("a", 20, name="new")]), now=1)
    result = store.apply(PageWrite(table="contacts", records=[contact("a", 10, name="old")]), 2)
    assert (result.written, result.stale, result.moved) == (0, 1, [])
    raw = rows(store, "SELECT raw, updated_at FROM contacts")[0]
    assert orjson.loads(raw[0])["name"] == "new" and raw[1] == 20
    attrs = rows(store, "SELECT attributes, updated_at FROM entities")[0]
    assert orjson.loads(attrs[0]) == {"name": "new"} and attrs[1] == 20_000


def test_same_version_is_rewritten_but_has_not_moved(store: Store) -> None:
    assert store.apply(PageWrite(table="contacts", records=[contact("a", 20)]), 1).moved == [("a",)]
    again = store.apply(PageWrite(table="contacts", records=[contact("a", 20)]), 2)
    assert (again.written, again.moved) == (1, [])
    newer = store.apply(PageWrite(table="contacts", records=[contact("a", 21)]), 3)
    assert newer.moved == [("a",)]


def test_children_are_queued_only_for_records_that_moved(store: Store) -> None:
    def page(*records: RecordWrite) -> PageWrite:
        return PageWrite(
            table="contacts", records=list(records), enqueue_children=("conversation_parts",)
        )

    store.apply(page(contact("a", 10), contact("b", 10)), 1)
    assert sorted(p for p, _ in store.pending_children("conversation_parts")) == ["a", "b"]
    store.apply(PageWrite(dequeue_children=[("conversation_parts", "a", 10)]), 2)
    store.apply(page(contact("a", 10), contact("b", 11)), 3)  # a unchanged, b moved again
    assert store.pending_children("conversation_parts") == [("b", 11)]
    # b's child finished for the version it was queued at (10), but b moved to 11 meanwhile:
    # the newer entry stays queued.
    store.apply(PageWrite(dequeue_children=[("conversation_parts", "b", 10)]), 4)
    assert store.pending_children("conversation_parts") == [("b", 11)]
    store.apply(PageWrite(dequeue_children=[("conversation_parts", "b", 11)]), 5)
    assert store.pending_children("conversation_parts") == []


def test_full_pass_marks_unseen_rows_and_their_entities_deleted(store: Store) -> None:
    store.apply(
        PageWrite(table="contacts", records=[contact("a", 10), contact("b", 10)], seen_pass="p1"),
        1,
    )
    store.apply(PageWrite(table="contacts", records=[contact("a", 10)], seen_pass="p2"), 2)
    marked = store.mark_deleted(
        "contacts", "p2", 50, entity_type="intercom_contact", state={"contacts": {"cursor": 7}}
    )
    assert marked == 1
    assert rows(store, "SELECT id, deleted_at FROM contacts ORDER BY id") == [
        ("a", None),
        ("b", 50),
    ]
    assert rows(store, "SELECT entity_id, deleted_at FROM entities ORDER BY entity_id") == [
        ("a", None),
        ("b", 50_000),
    ]
    assert store.get_state("contacts") == {"cursor": 7}


def test_mark_deleted_respects_the_range_the_pass_covered(store: Store) -> None:
    store.apply(PageWrite(table="contacts", records=[contact("old", 5), contact("x", 50)]), 1)
    assert store.mark_deleted("contacts", "p", 9, updated_since=10) == 1
    assert rows(store, "SELECT id FROM contacts WHERE deleted_at IS NOT NULL") == [("x",)]


def test_a_full_pass_can_mark_only_the_unseen_rows_confirmed_gone(store: Store) -> None:
    records = [contact("a", 10), contact("b", 11), contact("c", 12)]
    store.apply(PageWrite(table="contacts", records=records, seen_pass="p1"), 1)
    store.apply(PageWrite(table="contacts", records=[contact("a", 10)], seen_pass="p2"), 2)
    assert store.unseen_keys("contacts", "p2") == [("b",), ("c",)]
    # "a" was seen, so asking to mark it does nothing; "b" is unseen but still exists.
    marked = store.mark_deleted(
        "contacts", "p2", 50, entity_type="intercom_contact", keys=[("a",), ("c",)]
    )
    assert marked == 1
    assert rows(store, "SELECT id FROM contacts WHERE deleted_at IS NOT NULL") == [("c",)]
    assert rows(store, "SELECT entity_id FROM entities WHERE deleted_at IS NOT NULL") == [("c",)]
    assert store.mark_deleted("contacts", "p2", 51, keys=[]) == 0


def test_rows_are_counted_per_span_live_or_seen_in_a_pass(store: Store) -> None:
    store.apply(
        PageWrite(table="contacts", records=[contact(str(i), i) for i in range(10)], seen_pass="p"),
        1,
    )
    store.apply(PageWrite(table="contacts", records=[contact("x", 5)]), 2)
    store.mark_deleted("contacts", "p", 3, keys=[("x",)])
    assert store.count_rows("contacts", 2, 6) == 5  # 2..6 live, "x" deleted
    assert store.count_rows("contacts", 0, 9, seen_pass="p") == 10
    assert store.count_rows("contacts", 20, 30) == 0
    assert store.live_versions("contacts", 8, 100) == {"8": 8, "9": 9}


def test_a_stale_record_still_counts_as_seen_and_is_not_deleted(store: Store) -> None:
    store.apply(PageWrite(table="contacts", records=[contact("a", 20)], seen_pass="p1"), 1)
    store.apply(PageWrite(table="contacts", records=[contact("a", 10)], seen_pass="p2"), 2)
    assert store.mark_deleted("contacts", "p2", 3) == 0


def test_a_record_seen_again_is_no_longer_deleted(store: Store) -> None:
    store.apply(PageWrite(table="contacts", records=[contact("a", 10)]), 1)
    store.mark_deleted("contacts", "p", 2)
    store.apply(PageWrite(table="contacts", records=[contact("a", 11)]), 3)
    assert rows(store, "SELECT deleted_at FROM contacts") == [(None,)]


def test_complete_scope_marks_what_a_full_listing_no_longer_holds(store: Store) -> None:
    table = RAW_TABLES["company_segments"]

    def seg(company: str, sid: str) -> RecordWrite:
        raw = orjson.dumps({"id": sid}).decode()
        return RecordWrite((company, sid), 1, (company, sid, None, None, None, 1, raw))

    assert len(table.all_columns) == 5 + 5
    store.apply(PageWrite(table="company_segments", records=[seg("c1", "s1"), seg("c1", "s2")]), 1)
    store.apply(PageWrite(table="company_segments", records=[seg("c2", "s1")]), 1)
    store.apply(
        PageWrite(
            table="company_segments",
            records=[seg("c1", "s2")],
            complete_scopes=[{"company_id": "c1"}],
        ),
        5,
    )
    assert rows(
        store, "SELECT company_id, id, deleted_at FROM company_segments ORDER BY company_id, id"
    ) == [("c1", "s1", 5), ("c1", "s2", None), ("c2", "s1", None)]


def test_scoped_shapes_are_replaced_as_a_whole(store: Store) -> None:
    def tags(*names: str) -> Shapes:
        return Shapes(
            edges=[
                ("intercom", "intercom_conversation", "1", "tagged", "intercom_tag", n, None)
                for n in names
            ],
            edge_scopes=[("intercom", "intercom_conversation", "1", "tagged")],
        )

    store.apply(PageWrite(shapes=tags("t1", "t2")), 1)
    store.apply(PageWrite(shapes=tags("t2", "t3")), 2)
    assert rows(store, "SELECT dst_id FROM edges ORDER BY dst_id") == [("t2",), ("t3",)]


def test_parts_gaps_are_recorded_and_closed(store: Store) -> None:
    store.apply(PageWrite(gaps=[PartsGap("c1", expected=700, stored=500)]), 1)
    assert rows(store, "SELECT conversation_id, missing FROM _parts_gaps") == [("c1", 200)]
    store.apply(PageWrite(gaps_closed=["c1"]), 2)
    assert rows(store, "SELECT count(*) FROM _parts_gaps") == [(0,)]


def test_lock_is_exclusive_until_released_or_expired(store: Store) -> None:
    assert store.try_lock("scroll", "A", ttl=60, now=0)
    assert not store.try_lock("scroll", "B", ttl=60, now=30)
    assert store.try_lock("scroll", "A", ttl=60, now=30)  # the holder renews
    assert not store.try_lock("scroll", "B", ttl=60, now=80)
    assert store.try_lock("scroll", "B", ttl=60, now=91)  # A's lease ran out
    store.release_lock("scroll", "A")  # not A's any more: no effect
    assert not store.try_lock("scroll", "A", ttl=60, now=92)
    store.release_lock("scroll", "B")
    assert store.try_lock("scroll", "A", ttl=60, now=93)


def test_two_connections_share_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_store(url), open_store(url)
    try:
        assert first.try_lock("scroll", "one", ttl=60, now=0)
        assert not second.try_lock("scroll", "two", ttl=60, now=1)
    finally:
        first.close()
        second.close()


def test_runs_whose_process_died_are_marked_interrupted(store: Store) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    store.start_run(RunRecord("r1", 1, "full", int(dead.stdout)))
    interrupted = store.start_run(RunRecord("r2", 2, "incremental", 1))  # pid 1 is alive
    assert interrupted == ["r1"]
    assert rows(store, "SELECT run_id, status FROM _sync_runs ORDER BY run_id") == [
        ("r1", "interrupted"),
        ("r2", "running"),
    ]
    store.finish_run(
        "r2",
        finished_at=9,
        status="succeeded",
        streams={"admins": {"records": 3}},
        requests=4,
        rate_limited=0,
        errors=[],
    )
    assert rows(store, "SELECT status, requests FROM _sync_runs WHERE run_id = 'r2'") == [
        ("succeeded", 4)
    ]


def test_metric_rows_are_written_and_rewritten_per_entity(store: Store) -> None:
    def metrics(*values: float) -> Shapes:
        return Shapes(
            metrics=[
                ("intercom", f"m{i}", "intercom_conversation", "c1", 1000, v, "{}")
                for i, v in enumerate(values)
            ],
            metric_scopes=[("intercom", "intercom_conversation", "c1")],
        )

    store.apply(PageWrite(shapes=metrics(1.0, 2.0, 3.0)), 1)
    store.apply(PageWrite(shapes=metrics(5.0)), 2)
    assert rows(store, "SELECT metric, value, synced_at FROM metrics") == [("m0", 5.0, 2)]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM events WHERE connector = ? AND event_type = ? AND entity_type = ? "
        "AND entity_id = ?",
        "DELETE FROM metrics WHERE connector = ? AND entity_type = ? AND entity_id = ?",
        "DELETE FROM edges WHERE connector = ? AND src_type = ? AND src_id = ? AND relation = ?",
        "DELETE FROM _pending_children WHERE stream = ? AND parent_id = ?",
        "SELECT raw FROM conversation_parts WHERE conversation_id = ? ORDER BY created_at, id",
    ],
)
def test_per_record_statements_use_an_index_not_a_table_scan(store: Store, statement: str) -> None:
    """Every page rewrites scoped shapes; a scan there makes a sync quadratic."""
    n = statement.count("?")
    plan = rows(store, f"EXPLAIN QUERY PLAN {statement}", *(["x"] * n))
    details = " ".join(str(r[-1]) for r in plan)
    assert "USING" in details and "INDEX" in details, details
    assert not any(str(r[-1]).startswith("SCAN") for r in plan), details


def test_pending_work_can_be_read_incrementally(store: Store) -> None:
    """A child reader takes only entries newer than its last read, re-enqueues included."""

    def enqueue(*records: RecordWrite) -> None:
        store.apply(
            PageWrite(table="contacts", records=list(records), enqueue_children=("kids",)), 1
        )

    enqueue(contact("a", 1), contact("b", 1))
    first = store.pending_after("kids", 0)
    assert [(p, u) for p, u, _ in first] == [("a", 1), ("b", 1)]
    last = first[-1][2]
    assert store.pending_after("kids", last) == []
    enqueue(contact("a", 2))  # a moves again: it comes back, after b
    again = store.pending_after("kids", last)
    assert [(p, u) for p, u, _ in again] == [("a", 2)]
    assert again[0][2] > last


def test_a_completed_membership_scan_replaces_the_group_in_one_go(store: Store) -> None:
    edge = ("intercom_contact", "in_segment", "intercom_segment")

    def members(group: str) -> list[tuple[str, ...]]:
        return rows(
            store,
            "SELECT contact_id FROM contact_segments WHERE segment_id = ? AND deleted_at IS NULL "
            "ORDER BY contact_id",
            group,
        )

    store.stage_members("contact_segments", "s1", "scan1", ["a", "b", "c"])
    store.stage_members("contact_segments", "s1", "scan1", ["c"])  # a repeat stages once
    assert store.staged_count("contact_segments", "s1", "scan1") == 3
    assert members("s1") == []  # staged only: nothing changed yet
    assert store.replace_members("contact_segments", "segment_id", "s1", "scan1", 10, edge=edge)
    assert members("s1") == [("a",), ("b",), ("c",)]
    # An interrupted scan (staged, never replaced) changes nothing.
    store.stage_members("contact_segments", "s1", "scan2", ["a"])
    assert members("s1") == [("a",), ("b",), ("c",)]
    store.stage_members("contact_segments", "s1", "scan3", ["b", "d"])
    assert store.replace_members(
        "contact_segments", "segment_id", "s1", "scan3", 20, edge=edge
    ) == (2, 2)
    assert members("s1") == [("b",), ("d",)]
    assert rows(store, "SELECT count(*) FROM _member_scans") == [(0,)]
    assert rows(
        store, "SELECT src_id FROM edges WHERE relation = 'in_segment' ORDER BY src_id"
    ) == [("b",), ("d",)]
    # A rejoin clears deleted_at; a group that no longer exists ends.
    store.stage_members("contact_segments", "s1", "scan4", ["a", "b", "d"])
    store.replace_members("contact_segments", "segment_id", "s1", "scan4", 30, edge=edge)
    assert members("s1") == [("a",), ("b",), ("d",)]
    assert store.end_groups("contact_segments", "segment_id", ["s2"], 40, edge=edge) == 3
    assert members("s1") == [] and rows(store, "SELECT count(*) FROM edges") == [(0,)]
