"""The adapters' pure core: the emitting page sink, the state split per platform stream,
what a read may resume from, and the platform config mapped onto the settings."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from intercom_sync.adapters.backend import CHECKPOINT_EVERY, PENDING, EmittingBackend
from intercom_sync.adapters.settings import FIELDS, settings_from_config
from intercom_sync.adapters.state import family, join, owner, resumable, split
from intercom_sync.adapters.streams import PLATFORM_STREAMS
from intercom_sync.config import ConfigError
from intercom_sync.store.schema import RAW_TABLES
from intercom_sync.store.writes import PageWrite, RecordWrite

TOKEN = "dG9rOnNlY3JldC10b2tlbi12YWx1ZQ=="


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []

    def record(self, stream: str, record: dict[str, Any]) -> None:
        self.messages.append(("record", (stream, record)))

    def checkpoint(self, state: dict[str, Any]) -> None:
        self.messages.append(("state", state))


def row(table: str, **values: Any) -> tuple[Any, ...]:
    return tuple(values.get(name) for name, _ in RAW_TABLES[table].all_columns)


def conversation(cid: str, updated_at: int) -> RecordWrite:
    raw = orjson.dumps({"id": cid, "updated_at": updated_at}).decode()
    return RecordWrite((cid,), updated_at, row("conversations", id=cid, raw=raw))


def backend(sink: Sink, state: dict[str, Any] | None = None) -> EmittingBackend:
    return EmittingBackend(sink, state or {}, emit=frozenset(PLATFORM_STREAMS))


# -- the emitting page sink --------------------------------------------------------------


def test_records_go_out_before_the_checkpoint_that_covers_them() -> None:
    sink = Sink()
    b = backend(sink)
    write = PageWrite(
        table="conversations",
        records=[conversation("c1", 10), conversation("c2", 20)],
        state={"conversations": {"cursor": 20}},
        enqueue_children=("conversation_parts",),
    )
    b.apply(write, now=0)
    b.save_state({"conversations": {"cursor": 20}}, now=0)
    kinds = [kind for kind, _ in sink.messages]
    assert kinds == ["record", "record", "state"]
    state = sink.messages[-1][1]
    assert state["conversations"] == {"cursor": 20}
    # The parts still to fetch are in the checkpoint, in the order they were queued.
    assert state[PENDING] == {"conversation_parts": [["c1", 10], ["c2", 20]]}


def test_a_child_finished_leaves_the_queue_unless_its_parent_moved_again() -> None:
    sink = Sink()
    b = backend(sink, {PENDING: {"conversation_parts": [["c1", 10], ["c2", 20]]}})
    assert b.pending_children("conversation_parts") == [("c1", 10), ("c2", 20)]
    b.apply(PageWrite(dequeue_children=[("conversation_parts", "c1", 10)]), now=0)
    b.apply(PageWrite(dequeue_children=[("conversation_parts", "c2", 15)]), now=0)  # older
    assert b.pending_children("conversation_parts") == [("c2", 20)]
    assert b.snapshot()[PENDING] == {"conversation_parts": [["c2", 20]]}


def test_a_checkpoint_is_taken_every_so_many_records() -> None:
    sink = Sink()
    b = backend(sink)
    records = [conversation(f"c{i}", i) for i in range(CHECKPOINT_EVERY)]
    b.apply(PageWrite(table="conversations", records=records), now=0)
    assert sink.messages[-1][0] == "state"
    assert sum(1 for kind, _ in sink.messages if kind == "state") == 1


def test_a_record_carries_its_parent_key_and_only_selected_streams_are_emitted() -> None:
    sink = Sink()
    b = EmittingBackend(sink, {}, emit=frozenset({"conversation_parts"}))
    raw = orjson.dumps({"id": "p1", "part_type": "comment"}).decode()
    part = RecordWrite(
        ("p1",), 5, row("conversation_parts", id="p1", conversation_id="c9", raw=raw)
    )
    b.apply(PageWrite(table="conversation_parts", records=[part]), now=0)
    b.apply(PageWrite(table="conversations", records=[conversation("c9", 5)]), now=0)
    records = [payload for kind, payload in sink.messages if kind == "record"]
    assert records == [
        ("conversation_parts", {"id": "p1", "part_type": "comment", "conversation_id": "c9"})
    ]
    # The unselected parent was still counted, for the checks against Intercom's counts.
    assert b.count_rows("conversations", 0, 10) == 1
    assert b.count_rows("conversations", 6, 10) == 0


def test_a_completed_membership_scan_goes_out_as_pairs_and_a_dropped_one_does_not() -> None:
    sink = Sink()
    b = backend(sink)
    b.stage_members("contact_segments", "s1", "old-scan", ["x"])
    b.stage_members("contact_segments", "s1", "scan", ["k2", "k1"])
    b.stage_members("contact_segments", "s1", "scan", ["k1"])
    assert b.staged_count("contact_segments", "s1", "scan") == 2
    assert b.replace_members("contact_segments", "segment_id", "s1", "scan", now=0) == (2, 0)
    records = [payload for kind, payload in sink.messages if kind == "record"]
    assert records == [
        ("contact_segments", {"contact_id": "k1", "segment_id": "s1"}),
        ("contact_segments", {"contact_id": "k2", "segment_id": "s1"}),
    ]
    assert b.staged_count("contact_segments", "s1", "old-scan") == 0


def test_the_state_handed_in_is_not_changed_by_the_read() -> None:
    given = {"conversations": {"cursor": 5}, PENDING: {"conversation_parts": [["c1", 5]]}}
    before = orjson.dumps(given)
    b = backend(Sink(), given)
    b.apply(PageWrite(state={"conversations": {"cursor": 9}}), now=0)
    assert orjson.dumps(given) == before
    assert b.get_state("conversations") == {"cursor": 9}


# -- state per platform stream -----------------------------------------------------------

SNAPSHOT = {
    "contacts": {"cursor": 1},
    "verify:contacts": {"checked": 2},
    "conversations": {"cursor": 3},
    "conversation_parts": {"done": 4},
    PENDING: {"conversation_parts": [["c1", 3]], "contact_companies": [["k1", 1]]},
}


def test_each_stream_owns_its_checks_and_its_children_queue() -> None:
    assert owner("verify:contacts") == "contacts"
    assert owner("contact_companies") == "contacts"  # no records of its own
    assert owner("conversation_parts") == "conversation_parts"
    shares = split(SNAPSHOT)
    assert shares["contacts"] == {
        "contacts": {"cursor": 1},
        "verify:contacts": {"checked": 2},
        PENDING: {"contact_companies": [["k1", 1]]},
    }
    assert shares["conversation_parts"][PENDING] == {"conversation_parts": [["c1", 3]]}
    assert join(shares.values()) == SNAPSHOT


def test_a_full_refresh_drops_the_stream_and_its_parents_state() -> None:
    assert family("conversation_parts") == {"conversation_parts", "conversations"}
    kept = resumable(
        SNAPSHOT, ["conversations", "conversation_parts", "contacts"], ["conversation_parts"]
    )
    assert set(kept) == {"contacts", "verify:contacts", PENDING}
    assert kept[PENDING] == {"contact_companies": [["k1", 1]]}


def test_a_stream_without_a_cursor_is_read_whole_with_its_parent() -> None:
    state = {"companies": {"cursor": 1}, "conversations": {"cursor": 3}}
    assert PLATFORM_STREAMS["company_segments"].cursor_field is None
    assert resumable(state, ["companies", "company_segments", "conversations"], []) == {
        "conversations": {"cursor": 3}
    }
    assert resumable(state, ["companies", "conversations"], []) == state


# -- the platform config -------------------------------------------------------------------


def test_the_reference_field_names_map_onto_the_settings() -> None:
    settings = settings_from_config(
        {
            "access_token": TOKEN,
            "start_date": "2020-01-01T00:00:00Z",
            "lookback_window": 2,
            "activity_logs_time_step": 7,
            "num_workers": 3,
            "api_rate_limit": 600,
            "region": "eu",
            "api_version": "2.14",
        }
    )
    intercom = settings.intercom
    assert (intercom.lookback_days, intercom.activity_logs_slice_days) == (2, 7)
    assert (intercom.num_workers, intercom.api_rate_limit) == (3, 600)
    assert (intercom.region, intercom.api_version) == ("eu", "2.14")
    assert intercom.membership_refresh == 0  # "every run": memberships are scanned whole


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "access_token"),
        ({"access_token": "  "}, "access_token"),
        ({"access_token": TOKEN, "lookback_windw": 1}, "lookback_windw"),
        ({"access_token": TOKEN, "lookback_window": -1}, "lookback_window"),
        ({"access_token": TOKEN, "activity_logs_time_step": "weekly"}, "activity_logs_time_step"),
        ({"access_token": TOKEN, "start_date": "yesterday"}, "start_date"),
        ({"access_token": TOKEN, "region": "mars"}, "region"),
    ],
)
def test_a_bad_field_is_named_as_the_platform_user_typed_it(
    config: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_config(config)
    assert caught.value.key == field
    assert TOKEN not in str(caught.value)
    assert set(FIELDS) >= {"access_token", "lookback_window", "activity_logs_time_step"}
