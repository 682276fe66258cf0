"""Raw rows, keys, entities and edges built from 2.11/2.14-shaped records."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.store import PageWrite, open_store
from intercom_sync.store.base import Store
from intercom_sync.store.schema import (
    EDGE_RELATIONS,
    ENTITY_TYPES,
    RAW_TABLES,
    RECORD_TABLES,
    SHAPE_TABLES,
    Column,
    RawTable,
)
from intercom_sync.streams.transform import (
    ROW_PLANS,
    company_segment_edges,
    contact_companies_incomplete,
    contact_company_edges,
    conversation_shapes,
    page_writes,
    raw_row,
    record_key,
    record_write,
)

FIXTURES = Path(__file__).parent / "fixtures"
RECORDS: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "transform_records_211.json").read_text()
)
TICKET_214: dict[str, Any] = json.loads((FIXTURES / "transform_ticket_214.json").read_text())

# What each child stream's parent key is in the fixtures.
PARENTS = {
    "conversation_parts": "1295",
    "company_segments": "531ee472cce572a6ec000006",
    "contact_attributes": "contact",
    "company_attributes": "company",
}
PYTHON_TYPES = {"text": str, "int": int, "real": float, "bool": bool, "json": str}


def record(stream: str) -> dict[str, Any]:
    return copy.deepcopy(RECORDS[stream])


def columns(table: RawTable) -> list[str]:
    """The columns a transform fills: all but synced_at, seen_pass, deleted_at."""
    return [name for name, _ in table.all_columns][:-3]


def as_dict(table: RawTable, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(columns(table), row, strict=True))


# -- raw rows -------------------------------------------------------------------------------
def test_every_stream_has_a_fixture() -> None:
    assert set(RECORDS) == set(RECORD_TABLES)


@pytest.mark.parametrize("stream", sorted(RECORD_TABLES))
def test_row_follows_the_table_columns_with_declared_types(stream: str) -> None:
    table = RAW_TABLES[stream]
    rec = record(stream)
    row = raw_row(table, rec, PARENTS.get(stream))
    assert len(row) == len(columns(table))
    for (name, kind), value in zip(table.all_columns, row, strict=False):
        if value is not None:
            assert type(value) is PYTHON_TYPES[kind], (name, value)
    assert orjson.loads(row[-1]) == rec  # raw: the record exactly as received
    assert row[-1] == orjson.dumps(rec).decode()


@pytest.mark.parametrize("stream", sorted(RECORD_TABLES))
def test_every_typed_column_of_the_fixtures_is_filled(stream: str) -> None:
    """The fixtures are complete, so a None here means a path that reads nothing."""
    table = RAW_TABLES[stream]
    row = as_dict(table, raw_row(table, record(stream), PARENTS.get(stream)))
    allowed_none = {"updated_at"} if not table.has_updated_at else set()
    allowed_none |= {"last_replied_at", "snoozed_until"}  # null in the fixtures
    missing = {k for k, v in row.items() if v is None} - allowed_none
    assert missing == set()


def test_conversation_row_values() -> None:
    table = RAW_TABLES["conversations"]
    row = as_dict(table, raw_row(table, record("conversations")))
    assert row["id"] == "1295"
    assert row["admin_assignee_id"] == "991267715"  # an int in 2.11, stored as text
    assert row["team_assignee_id"] == "814865"
    assert row["open"] is True
    assert row["source_type"] == "email"
    assert row["source_delivered_as"] == "customer_initiated"
    assert row["source_author_type"] == "user"
    assert row["rating"] == 5
    assert row["rating_created_at"] == 1671028894
    assert row["first_close_at"] == 1663598123
    assert row["count_conversation_parts"] == 9
    assert row["snoozed_until"] is None
    assert row["updated_at"] == 1663597260


def test_missing_and_null_values_become_none() -> None:
    table = RAW_TABLES["conversations"]
    sparse = {"id": 77, "statistics": None, "source": "not an object", "admin_assignee_id": None}
    row = raw_row(table, sparse)
    assert row[0] == "77"  # int id → text
    assert row[1:-1] == (None,) * (len(row) - 2)
    assert (
        row[-1] == '{"id":77,"statistics":null,"source":"not an object","admin_assignee_id":null}'
    )


def test_json_and_bool_columns() -> None:
    table = RAW_TABLES["admins"]
    row = as_dict(table, raw_row(table, record("admins")))
    assert row["team_ids"] == "[814865,814866]"
    assert row["away_mode_enabled"] is False
    assert row["away_mode_reassign"] is True
    assert row["updated_at"] is None  # admins carry no updated_at


def test_values_of_the_wrong_type_are_coerced() -> None:
    table = RAW_TABLES["companies"]
    rec = {
        "id": "c1",
        "created_at": "1663597223",
        "session_count": 12.0,
        "user_count": "lots",
        "monthly_spend": 155,
        "size": True,
        "company_id": 6,
        "updated_at": 1663597300.0,
    }
    row = as_dict(table, raw_row(table, rec))
    assert row["created_at"] == 1663597223
    assert row["session_count"] == 12
    assert row["user_count"] is None  # junk never fails the page
    assert row["monthly_spend"] == 155.0 and type(row["monthly_spend"]) is float
    assert row["company_id"] == "6"
    assert row["updated_at"] == 1663597300


def test_bool_from_text() -> None:
    table = RAW_TABLES["tickets"]
    assert as_dict(table, raw_row(table, {"id": "t", "open": "false"}))["open"] is False
    assert as_dict(table, raw_row(table, {"id": "t", "open": "true"}))["open"] is True
    assert as_dict(table, raw_row(table, {"id": "t", "open": 0}))["open"] is False


def test_ticket_state_string_in_2_11_and_object_in_2_14() -> None:
    table = RAW_TABLES["tickets"]
    old = as_dict(table, raw_row(table, record("tickets")))
    new = as_dict(table, raw_row(table, TICKET_214))
    assert (old["ticket_state"], old["ticket_state_label"]) == ("in_progress", "With dev team")
    assert (new["ticket_state"], new["ticket_state_label"]) == (
        "waiting_on_customer",
        "Waiting on finance",
    )
    assert new["admin_assignee_id"] == "991267715"
    assert new["team_assignee_id"] is None
    assert new["ticket_type_name"] == "Refund"


def test_part_key_and_conversation_id_come_from_the_parent() -> None:
    table = RAW_TABLES["conversation_parts"]
    row = as_dict(table, raw_row(table, record("conversation_parts"), "1295"))
    assert row["id"] == "7001"
    assert row["conversation_id"] == "1295"
    assert row["author_type"] == "admin"
    assert row["assigned_to_id"] == "991267715"
    assert row["updated_at"] == 1663597283
    assert record_key(table, record("conversation_parts"), "1295") == ("7001",)


def test_company_segment_key_is_company_then_segment() -> None:
    table = RAW_TABLES["company_segments"]
    rec = record("company_segments")
    assert record_key(table, rec, "531ee472cce572a6ec000006") == (
        "531ee472cce572a6ec000006",
        "56203d253cba154d39010062",
    )
    row = raw_row(table, rec, "531ee472cce572a6ec000006")
    assert row[:2] == ("531ee472cce572a6ec000006", "56203d253cba154d39010062")


def test_parent_key_overrides_the_record_and_is_required() -> None:
    table = RAW_TABLES["company_attributes"]
    rec = record("company_attributes")  # carries "model": "company" itself
    assert record_key(table, rec, "company") == ("company", "monthly_spend")
    with pytest.raises(ValueError, match="parent_id"):
        raw_row(table, rec)
    with pytest.raises(ValueError, match="parent_id"):
        record_key(RAW_TABLES["conversation_parts"], record("conversation_parts"))


def test_a_record_without_its_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="contacts record without its key id"):
        raw_row(RAW_TABLES["contacts"], {"email": "x@example.com"})


def test_a_table_declared_elsewhere_is_compiled_on_demand() -> None:
    table = RawTable(
        "widgets",
        (Column("id", "text"),),
        (Column("deep", "int", ("a", "b", "c")), Column("shout", "text", fn=lambda r: "HI")),
        has_updated_at=False,
    )
    assert raw_row(table, {"id": 1, "a": {"b": {"c": "7"}}}) == (
        "1",
        7,
        "HI",
        None,
        '{"id":1,"a":{"b":{"c":"7"}}}',
    )
    assert raw_row(table, {"id": 1, "a": {"b": 3}})[1] is None


def test_plans_are_compiled_once_per_table() -> None:
    assert set(ROW_PLANS) == set(RECORD_TABLES)
    assert "def build(record, parent_id):" in ROW_PLANS["conversations"].source


# -- entities -------------------------------------------------------------------------------
def entity(stream: str, rec: dict[str, Any] | None = None) -> tuple[Any, ...]:
    shapes = record_write(stream, rec or record(stream), parent_id=PARENTS.get(stream)).shapes
    assert shapes is not None and len(shapes.entities) == 1
    return shapes.entities[0]


def attributes(stream: str, rec: dict[str, Any] | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = orjson.loads(entity(stream, rec)[3])
    return attrs


def test_entity_row_layout() -> None:
    row = entity("conversations")
    assert row[:3] == ("intercom", "intercom_conversation", "1295")
    assert row[4] == 1663597260 * 1000
    assert len(row) == len(SHAPE_TABLES["entities"].columns) - 2  # store adds synced/deleted
    assert entity("admins")[4] is None  # no updated_at → None
    assert {entity(s)[1] for s in ENTITY_STREAMS} == set(ENTITY_TYPES)


ENTITY_STREAMS = (
    "admins",
    "teams",
    "contacts",
    "conversations",
    "companies",
    "tags",
    "segments",
    "tickets",
)


def test_admin_attributes() -> None:
    assert attributes("admins") == {
        "name": "Hoban Washburne",
        "email": "wash@serenity.io",
        "jobTitle": "Pilot",
        "awayMode": False,
        "hasInboxSeat": True,
        "teamIds": ["814865", "814866"],
    }


def test_team_attributes_count_distinct_admins() -> None:
    assert attributes("teams") == {
        "name": "Tier 1",
        "adminCount": 2,  # the fixture lists 991267715 twice
        "adminIds": ["991267715", "991267716"],
    }


def test_contact_attributes() -> None:
    assert attributes("contacts") == {
        "role": "user",
        "email": "joe@example.com",
        "externalId": "f3b87a2e09d514c6c2e79b9a",
        "createdAt": 1571672154000,
        "lastSeenAt": 1571672180000,
        "name": "Joe Example",
        "updatedAt": 1571672200000,
    }


def test_conversation_attributes() -> None:
    assert attributes("conversations") == {
        "state": "open",
        "priority": "priority",
        "adminAssigneeId": "991267715",
        "teamAssigneeId": "814865",
        "createdAt": 1663597223000,
        "firstContactReplyAt": 1663597223000,
        "firstAdminReplyAt": 1663597523000,
        "snoozedUntil": None,
        "countAssignments": 2,
        "countReopens": 1,
        "countConversationParts": 9,
        "tags": ["billing", "refund"],
        "updatedAt": 1663597260000,
        "open": True,
        "channel": "email",
        "sourceDeliveredAs": "customer_initiated",
        "rating": 5,
        "ratingRemark": "Great help",
        "firstAssignmentAt": 1663597283000,
        "firstCloseAt": 1663598123000,
        "lastCloseAt": 1663599023000,
        "waitingSince": 1663597240000,
        "title": "Refund for order 42",
    }


def test_conversation_attributes_without_optional_blocks() -> None:
    attrs = attributes(
        "conversations",
        {"id": "9", "state": "snoozed", "snoozed_until": 1700000000, "statistics": None},
    )
    assert attrs["snoozedUntil"] == 1700000000000
    assert attrs["tags"] == []
    assert attrs["countAssignments"] is None
    assert attrs["channel"] is None and attrs["rating"] is None


def test_company_attributes() -> None:
    assert attributes("companies") == {
        "name": "Blue Sun",
        "companyId": "6",
        "plan": "Pro",
        "monthlySpend": 155,
        "userCount": 4,
        "sessionCount": 12,
        "createdAt": 1663597223000,
        "updatedAt": 1663597300000,
    }


def test_tag_and_segment_attributes() -> None:
    assert attributes("tags") == {"name": "billing"}
    assert attributes("segments") == {"name": "Active", "personType": "user"}


def test_ticket_attributes_in_both_api_versions() -> None:
    assert attributes("tickets") == {
        "state": "in_progress",
        "category": "Customer",
        "ticketType": "Bug",
        "createdAt": 1663597223000,
        "updatedAt": 1663597260000,
        "open": True,
        "adminAssigneeId": "991267715",
        "teamAssigneeId": "814865",
    }
    new = attributes("tickets", TICKET_214)
    assert new["state"] == "waiting_on_customer"
    assert new["adminAssigneeId"] == "991267715"
    assert new["open"] is False


@pytest.mark.parametrize(
    "stream", ["conversation_parts", "company_segments", "activity_logs", "contact_attributes"]
)
def test_streams_without_shapes(stream: str) -> None:
    assert record_write(stream, record(stream), parent_id=PARENTS.get(stream)).shapes is None


# -- edges ----------------------------------------------------------------------------------
def edges_of(stream: str, rec: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    shapes = record_write(stream, rec).shapes
    assert shapes is not None
    return shapes.edges, shapes.edge_scopes


def test_team_has_member_edges_without_repeats() -> None:
    edges, scopes = edges_of("teams", record("teams"))
    assert edges == [
        ("intercom", "intercom_team", "814865", "has_member", "intercom_admin", "991267715", None),
        ("intercom", "intercom_team", "814865", "has_member", "intercom_admin", "991267716", None),
    ]
    assert scopes == [("intercom", "intercom_team", "814865", "has_member")]


def test_conversation_tag_and_contact_edges() -> None:
    edges, scopes = edges_of("conversations", record("conversations"))
    assert [(e[3], e[5]) for e in edges] == [
        ("tagged", "123456"),
        ("tagged", "123457"),
        ("involves", "5ba682d23d7cf92bef87bfd4"),
    ]
    assert scopes == [
        ("intercom", "intercom_conversation", "1295", "tagged"),
        ("intercom", "intercom_conversation", "1295", "involves"),
    ]
    for edge in edges:
        assert (edge[1], edge[3], edge[4]) in EDGE_RELATIONS


def test_removing_every_tag_keeps_the_scope_so_old_edges_are_dropped() -> None:
    rec = record("conversations")
    rec["tags"] = {"type": "tag.list", "tags": []}
    edges, scopes = edges_of("conversations", rec)
    assert [e[3] for e in edges] == ["involves"]
    assert ("intercom", "intercom_conversation", "1295", "tagged") in scopes


def test_a_record_without_the_embedded_list_leaves_edges_alone() -> None:
    rec = record("conversations")
    del rec["tags"], rec["contacts"]
    assert edges_of("conversations", rec) == ([], [])
    company = record("companies")
    del company["segments"]
    assert edges_of("companies", company) == ([], [])


def test_contact_company_edges_and_has_more() -> None:
    edges, scopes = edges_of("contacts", record("contacts"))
    assert [(e[1], e[3], e[4], e[5]) for e in edges] == [
        ("intercom_contact", "belongs_to", "intercom_company", "531ee472cce572a6ec000006"),
        ("intercom_contact", "belongs_to", "intercom_company", "531ee472cce572a6ec000007"),
    ]
    assert scopes == [("intercom", "intercom_contact", "5ba682d23d7cf92bef87bfd4", "belongs_to")]
    assert contact_companies_incomplete(record("contacts")) is False
    cut_short = record("contacts")
    cut_short["companies"]["has_more"] = True
    assert contact_companies_incomplete(cut_short) is True
    assert contact_companies_incomplete({"id": "x"}) is False
    # A prefix of the list must neither add edges nor wipe the complete set fetched later.
    assert edges_of("contacts", cut_short) == ([], [])


def test_company_segment_edges_from_the_embedded_list() -> None:
    edges, scopes = edges_of("companies", record("companies"))
    assert edges == [
        (
            "intercom",
            "intercom_company",
            "531ee472cce572a6ec000006",
            "in_segment",
            "intercom_segment",
            "56203d253cba154d39010062",
            None,
        )
    ]
    assert scopes == [("intercom", "intercom_company", "531ee472cce572a6ec000006", "in_segment")]


def test_edge_helpers_for_lists_fetched_separately() -> None:
    full = contact_company_edges("c1", ["a", "b", "a", 7], connector="ws2")  # type: ignore[list-item]
    assert [e[5] for e in full.edges] == ["a", "b", "7"]
    assert full.edge_scopes == [("ws2", "intercom_contact", "c1", "belongs_to")]
    empty = contact_company_edges("c1", [])
    assert empty.edges == []
    assert empty.edge_scopes == [("intercom", "intercom_contact", "c1", "belongs_to")]
    company = company_segment_edges("co", ["s1"])
    assert company.edges == [
        ("intercom", "intercom_company", "co", "in_segment", "intercom_segment", "s1", None)
    ]


# -- record writes --------------------------------------------------------------------------
def test_record_write_carries_key_updated_at_row_and_shapes() -> None:
    write = record_write("conversations", record("conversations"), connector="acme")
    assert write.key == ("1295",)
    assert write.updated_at == 1663597260
    assert write.row == raw_row(RAW_TABLES["conversations"], record("conversations"))
    assert write.shapes is not None
    assert write.shapes.entities[0][0] == "acme"
    assert {s[0] for s in write.shapes.edge_scopes} == {"acme"}
    # events and metrics depend on stored parts: they come from conversation_shapes
    assert write.shapes.events == [] and write.shapes.metrics == []


def test_page_writes_equal_record_writes() -> None:
    recs = [record("contacts"), {**record("contacts"), "id": "other", "companies": None}]
    page = page_writes("contacts", recs)
    assert [w.key for w in page] == [("5ba682d23d7cf92bef87bfd4",), ("other",)]
    for write, rec in zip(page, recs, strict=True):
        single = record_write("contacts", rec)
        assert (write.key, write.updated_at, write.row) == (
            single.key,
            single.updated_at,
            single.row,
        )
        assert write.shapes == single.shapes
    parts = page_writes("conversation_parts", [record("conversation_parts")], parent_id="1295")
    assert parts[0].row[1] == "1295" and parts[0].shapes is None


def test_unknown_stream_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="conversations"):
        record_write("conversation", record("conversations"))


def test_transforms_do_not_modify_their_input() -> None:
    for stream in RECORD_TABLES:
        rec = record(stream)
        before = copy.deepcopy(rec)
        record_write(stream, rec, parent_id=PARENTS.get(stream))
        assert rec == before


# -- through a real store: the rows fit the DDL ---------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'transform.db'}")
    yield s
    s.close()


def test_every_stream_writes_into_the_store(store: Store) -> None:
    for stream in RECORD_TABLES:
        writes = page_writes(stream, [record(stream)], parent_id=PARENTS.get(stream))
        store.apply(PageWrite(table=stream, records=writes), now=1_700_000_000)
        stored = store.query(f"SELECT raw FROM {stream}")
        assert [orjson.loads(r[0]) for r in stored] == [record(stream)]
    conv = store.query("SELECT admin_assignee_id, rating, open, first_close_at FROM conversations")
    assert conv == [("991267715", 5, 1, 1663598123)]
    entities = store.query("SELECT entity_type, COUNT(*) FROM entities GROUP BY entity_type")
    assert dict(entities) == dict.fromkeys(ENTITY_TYPES, 1)
    relations = store.query("SELECT relation, COUNT(*) FROM edges GROUP BY relation")
    assert dict(relations) == {
        "has_member": 2,
        "tagged": 2,
        "involves": 1,
        "belongs_to": 2,
        "in_segment": 1,
    }


def test_conversation_shapes_write_and_replace_in_the_store(store: Store) -> None:
    conv = record("conversations")
    shapes = conversation_shapes(conv, None)
    store.apply(PageWrite(shapes=shapes), now=1)
    first = store.query("SELECT event_id FROM events ORDER BY occurred_at, event_id")
    assert len(first) == len(shapes.events) > 0
    store.apply(PageWrite(shapes=conversation_shapes(conv, None)), now=2)  # again: no duplicates
    assert store.query("SELECT event_id FROM events ORDER BY occurred_at, event_id") == first
