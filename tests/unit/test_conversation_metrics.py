"""Per-conversation metrics, hand-computed from small part lists (dbt definitions)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson

from intercom_sync.metrics.catalogue import CONVERSATION_METRICS
from intercom_sync.store.schema import CONVERSATION_COUNTS, CONVERSATION_DURATIONS, SHAPE_TABLES
from intercom_sync.streams.conversation_metrics import (
    DURATIONS,
    TIMESTAMP_METRICS,
    add_durations,
    conversation_metrics,
    facts_from_views,
    parts_metric_values,
)
from intercom_sync.streams.events import part_views

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATION: dict[str, Any] = json.loads((FIXTURES / "transform_records_211.json").read_text())[
    "conversations"
]
PARTS: list[dict[str, Any]] = json.loads(
    (FIXTURES / "transform_conversation_parts_211.json").read_text()
)
T0 = 1663597223


def part(pid: int, part_type: str, author: str, at: int, body: str | None = None) -> dict[str, Any]:
    """A minimal 2.11-shaped part, `at` seconds after T0."""
    return {
        "type": "conversation_part",
        "id": str(pid),
        "part_type": part_type,
        "body": body,
        "created_at": T0 + at,
        "author": {"type": author, "id": f"{author}-1"},
    }


def values_of(parts: list[dict[str, Any]]) -> dict[str, float]:
    return add_durations(parts_metric_values(parts), T0)


def metric_map(rows: list[tuple[Any, ...]]) -> dict[str, float]:
    return {r[1]: r[5] for r in rows}


def test_the_fixture_conversation_hand_computed() -> None:
    """Parts: bot comment +10, bot default_assignment (to a team) +60, admin assignment
    without body +180, user comment +200, admin note +250, admin comment +300, admin close
    +900, open (reopen) +1200, lead comment +1200, snooze +1300, bot close +1800."""
    assert values_of(copy.deepcopy(PARTS)) == {
        "first_contact_reply_at": T0 + 200,
        "last_contact_reply_at": T0 + 1200,  # the lead's comment counts
        "first_assignment_at": T0 + 60,  # "default_assignment" contains "assignment"
        "last_assignment_at": T0 + 180,
        "count_assignments": 2,
        "first_admin_response_at": T0 + 300,  # not the bodiless assignment at +180
        "last_admin_response_at": T0 + 300,
        "first_close_at": T0 + 900,
        "last_close_at": T0 + 1800,  # any author: the bot's close counts
        "first_admin_close_at": T0 + 900,
        "last_admin_close_at": T0 + 900,  # the bot's close is not an admin close
        "count_reopens": 1,
        "first_reopen_at": T0 + 1200,
        "last_reopen_at": T0 + 1200,
        "first_team_assignment_at": T0 + 60,
        "last_team_assignment_at": T0 + 60,
        "count_parts": 11,
        "time_to_first_assignment_minutes": 1.0,
        "time_to_first_response_minutes": 5.0,
        "time_to_first_close_minutes": 11.67,  # (900 - 200) / 60 = 11.666…
        "time_to_last_close_minutes": 26.67,  # (1800 - 200) / 60, the bot's close
        "time_to_admin_first_close_minutes": 11.67,
        "time_to_admin_last_close_minutes": 11.67,
        "time_to_last_assignment_minutes": 3.0,
    }


def test_who_closed_and_which_team_ride_on_their_rows() -> None:
    facts = facts_from_views(part_views(copy.deepcopy(PARTS)))
    assert facts.extra == {
        "first_close_at": {"authorType": "admin", "authorId": "991267715"},
        "last_close_at": {"authorType": "bot", "authorId": "991267700"},
        "first_admin_close_at": {"authorId": "991267715"},
        "last_admin_close_at": {"authorId": "991267715"},
        "first_team_assignment_at": {"teamId": "814865"},
        "last_team_assignment_at": {"teamId": "814865"},
    }
    rows = {
        r[1]: orjson.loads(r[6]) for r in conversation_metrics(CONVERSATION, PARTS, connector="i")
    }
    assert rows["last_close_at"]["authorType"] == "bot"
    assert rows["last_admin_close_at"]["authorId"] == "991267715"
    assert rows["last_admin_close_at"]["state"] == "open"  # the shared members stay
    assert "authorId" not in rows["count_parts"]


def test_closes_by_a_contact_or_a_workflow_count_in_the_any_author_family_only() -> None:
    parts = [
        part(1, "comment", "user", 0, "<p>a</p>"),
        part(2, "comment", "admin", 60, "<p>b</p>"),
        part(3, "close", "bot", 120),  # a workflow closes it
        part(4, "comment", "user", 300, "<p>again</p>"),
        part(5, "comment", "admin", 400, "<p>c</p>"),
        part(6, "close", "user", 600),  # the contact closes it
    ]
    values = values_of(parts)
    assert (values["first_close_at"], values["last_close_at"]) == (T0 + 120, T0 + 600)
    assert (
        "first_admin_close_at" not in values and "time_to_admin_first_close_minutes" not in values
    )
    assert (values["time_to_first_close_minutes"], values["time_to_last_close_minutes"]) == (
        2.0,
        10.0,
    )
    assert values["last_admin_response_at"] == T0 + 400


def test_close_before_any_contact_reply_is_negative_like_dbt() -> None:
    parts = [
        part(1, "comment", "bot", 10, "<p>Hello from the bot</p>"),
        part(2, "close", "admin", 100),
        part(3, "comment", "lead", 400, "<p>wait</p>"),
        part(4, "close", "admin", 500),
    ]
    values = values_of(parts)
    assert values["first_contact_reply_at"] == T0 + 400
    assert values["time_to_first_close_minutes"] == -5.0  # (100 - 400) / 60
    assert values["time_to_last_close_minutes"] == 1.67  # (500 - 400) / 60
    assert "first_admin_response_at" not in values


def test_no_contact_reply_means_no_close_times() -> None:
    values = values_of(
        [part(1, "comment", "admin", 30, "<p>hi</p>"), part(2, "close", "admin", 90)]
    )
    assert values["first_close_at"] == T0 + 90
    assert "time_to_first_close_minutes" not in values
    assert "time_to_last_close_minutes" not in values
    assert values["time_to_first_response_minutes"] == 0.5


def test_admin_comment_without_body_is_not_a_response() -> None:
    parts = [
        part(1, "comment", "user", 0, "<p>help</p>"),
        part(2, "comment", "admin", 60, None),
        part(3, "note", "admin", 120, "<p>internal</p>"),
        part(4, "comment", "bot", 150, "<p>auto reply</p>"),
    ]
    assert "first_admin_response_at" not in values_of(parts)
    parts.append(part(5, "comment", "admin", 600, ""))  # an empty body is still a body
    assert values_of(parts)["first_admin_response_at"] == T0 + 600
    assert values_of(parts)["time_to_first_response_minutes"] == 10.0


def test_reopens_and_assignments_are_counted() -> None:
    parts = [
        part(1, "comment", "user", 0, "<p>a</p>"),
        part(2, "close", "admin", 60),
        part(3, "open", "user", 120),
        part(4, "close", "bot", 180),
        part(5, "open", "lead", 240),
        part(6, "assignment", "admin", 250),
        part(7, "away_mode_assignment", "bot", 260),
        part(8, "assign_and_reopen", "admin", 270),  # neither "open" nor "assignment"
        part(9, "close", "admin", 300),
    ]
    values = values_of(parts)
    assert values["count_reopens"] == 2
    assert (values["first_reopen_at"], values["last_reopen_at"]) == (T0 + 120, T0 + 240)
    assert values["count_assignments"] == 2
    assert (values["first_assignment_at"], values["last_assignment_at"]) == (T0 + 250, T0 + 260)
    assert values["time_to_last_assignment_minutes"] == 4.33  # 260 / 60
    assert (values["first_close_at"], values["last_close_at"]) == (T0 + 60, T0 + 300)
    assert (values["first_admin_close_at"], values["last_admin_close_at"]) == (T0 + 60, T0 + 300)
    assert values["count_parts"] == 9


def test_zero_counts_are_emitted_but_undefined_times_are_not() -> None:
    rows = conversation_metrics(
        CONVERSATION, [part(1, "note", "admin", 5, "<p>x</p>")], connector="intercom"
    )
    assert metric_map(rows) == {"count_assignments": 0.0, "count_reopens": 0.0, "count_parts": 1.0}


def test_metric_rows_layout_units_and_attributes() -> None:
    rows = conversation_metrics(CONVERSATION, copy.deepcopy(PARTS), connector="acme")
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    for row in rows:
        assert len(row) == len(SHAPE_TABLES["metrics"].columns) - 1  # store adds synced_at
        assert row[0] == "acme"
        assert row[2:5] == ("intercom_conversation", "1295", T0 * 1000)
        assert type(row[5]) is float
        shared = {
            k: v
            for k, v in orjson.loads(row[6]).items()
            if k not in ("authorType", "authorId", "teamId")
        }
        assert shared == {
            "state": "open",
            "channel": "email",
            "adminAssigneeId": "991267715",
            "teamAssigneeId": "814865",
            "source": "parts",
        }
    metrics = metric_map(rows)
    assert metrics["first_close_at"] == (T0 + 900) * 1000  # timestamps in Unix ms
    seconds = values_of(copy.deepcopy(PARTS))
    for name, value in metrics.items():
        expected = seconds[name] * 1000 if name.endswith("_at") else seconds[name]
        assert value == expected, name
    assert metrics["time_to_first_close_minutes"] == 11.67
    assert metrics["count_parts"] == 11.0


def test_without_stored_parts_no_dbt_rows_are_written() -> None:
    """dbt's definitions need parts; the statistics mean something else and stay in the raw
    conversations table, so they never appear under dbt's names."""
    assert conversation_metrics(CONVERSATION, None, connector="intercom") == []
    assert conversation_metrics(CONVERSATION, [], connector="intercom") == []


def test_nothing_known_gives_no_rows() -> None:
    assert conversation_metrics({**CONVERSATION, "statistics": None}, None, connector="i") == []
    no_created = {k: v for k, v in CONVERSATION.items() if k != "created_at"}
    assert conversation_metrics(no_created, copy.deepcopy(PARTS), connector="i") == []


def test_every_metric_written_is_one_the_dashboards_may_name() -> None:
    names = {r[1] for r in conversation_metrics(CONVERSATION, copy.deepcopy(PARTS), connector="i")}
    assert names == set(CONVERSATION_METRICS)  # the fixture has every kind of part
    assert set(DURATIONS) == set(CONVERSATION_DURATIONS)
    assert names - set(DURATIONS) - set(CONVERSATION_COUNTS) == set(TIMESTAMP_METRICS)


def test_rounding_to_two_decimals() -> None:
    values = add_durations({"first_assignment_at": T0 + 100}, T0)
    assert values["time_to_first_assignment_minutes"] == 1.67
    values = add_durations({"first_assignment_at": T0 + 1}, T0)
    assert values["time_to_first_assignment_minutes"] == 0.02
