"""Version rendering: 2.11 is the stored shape, 2.14 applies the schema differences."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from intercom_sync.simulator.api.render import render, ticket_state_object
from intercom_sync.simulator.service import WorldSpec, ground_truth
from intercom_sync.simulator.world.world import World
from tests.openapi_schemas import validation_errors

Record = dict[str, Any]

STREAM_COMPONENTS = {
    "admins": "admin",
    "teams": "team",
    "tags": "tag",
    "segments": "segment",
    "contact_attributes": "data_attribute",
    "company_attributes": "data_attribute",
    "contacts": "contact",
    "conversations": "conversation",
    "conversation_parts": "conversation_part",
    "companies": "company",
    "company_segments": "segment",
    "contact_segments": "segment",
    "contact_tags": "tag",
    "tickets": "ticket",
    "activity_logs": "activity_log",
}


@pytest.fixture(scope="module")
def small() -> World:
    return World.build(WorldSpec.preset("small"))


def test_2_11_is_the_stored_record_itself(small: World) -> None:
    ticket = next(iter(small.tickets.values()))
    assert render("tickets", ticket, "2.11") is ticket
    assert render("ticket", ticket, "2.11") is ticket


def test_unknown_versions_and_kinds_are_refused(small: World) -> None:
    ticket = next(iter(small.tickets.values()))
    with pytest.raises(ValueError, match="version"):
        render("tickets", ticket, "2.99")
    with pytest.raises(ValueError, match="kind"):
        render("widgets", ticket, "2.14")


def test_2_14_ticket_state_is_an_object(small: World) -> None:
    for ticket in small.tickets.values():
        rendered = render("tickets", ticket, "2.14")
        state = rendered["ticket_state"]
        assert state == ticket_state_object(ticket["ticket_state"])
        assert state["type"] == "ticket_state"
        assert state["category"] == ticket["ticket_state"]
        assert state["internal_label"] == ticket["ticket_state_internal_label"]
        assert state["external_label"] == ticket["ticket_state_external_label"]
        assert "ticket_state_internal_label" not in rendered
        listed = rendered["ticket_type"]["ticket_states"]["data"]
        assert state in listed and len(listed) == 4
        assert validation_errors("2.14", "ticket", rendered) == []
    # The stored shape really is different: 2.14's schema rejects it.
    assert validation_errors("2.14", "ticket", next(iter(small.tickets.values())))


def test_2_14_admin_avatar_is_a_url(small: World) -> None:
    with_avatar = next(a for a in small.admins.values() if a["avatar"])
    rendered = render("admins", with_avatar, "2.14")
    assert rendered["avatar"] == with_avatar["avatar"]["image_url"]
    assert validation_errors("2.14", "admin", rendered) == []
    assert validation_errors("2.14", "admin", with_avatar)
    without = next(a for a in small.admins.values() if not a["avatar"])
    assert render("admins", without, "2.14")["avatar"] is None


def test_2_14_contact_and_conversation_differences(small: World) -> None:
    contact = next(c for c in small.contacts.values() if c["formatted_phone"])
    assert "formatted_phone" not in render("contacts", contact, "2.14")
    rated = next(c for c in small.conversations.values() if "conversation_rating" in c)
    rendered = render("conversations", rated, "2.14")
    assert "topics" not in rendered and "topics" in rated
    rating = rendered["conversation_rating"]
    assert rating["updated_at"] == rating["created_at"]
    assert rendered["source"]["author"]["from_ai_agent"] is False


def test_2_14_parts_say_which_came_from_the_ai_agent(small: World) -> None:
    conversation_id = next(
        cid for cid, c in small.conversations.items() if c["ai_agent_participated"]
    )
    body = small.conversation(conversation_id, 500)
    assert body is not None
    rendered = render("conversations", body, "2.14")
    parts = rendered["conversation_parts"]["conversation_parts"]
    assert len(parts) == len(body["conversation_parts"]["conversation_parts"])
    for part in parts:
        by_bot = part["author"]["type"] == "bot"
        assert part["author"]["from_ai_agent"] is by_bot
        assert part["author"]["is_ai_answer"] is (by_bot and part["part_type"] == "comment")
        assert part["app_package_code"] is None
    assert any(part["author"]["from_ai_agent"] for part in parts)
    assert rendered["ai_agent"]["created_at"] is None
    assert validation_errors("2.14", "conversation", rendered) == []


def test_2_14_renamed_activity_type() -> None:
    log = {
        "id": "x",
        "performed_by": {"type": "admin", "id": "1", "email": "a@example.com", "ip": "1.2.3.4"},
        "metadata": {},
        "created_at": 1,
        "activity_type": "admin_assignment_limit_change",
        "activity_description": "",
    }
    rendered = render("activity_logs", log, "2.14")
    assert rendered["activity_type"] == "admin_conversation_assignment_limit_change"
    assert validation_errors("2.14", "activity_log", rendered) == []
    assert validation_errors("2.14", "activity_log", log)  # the old name is gone in 2.14
    assert render("activity_logs", log, "2.11") is log


def test_rendering_never_changes_the_stored_record(small: World) -> None:
    before = orjson.dumps([small.tickets, small.conversations, small.admins, small.contacts])
    ground_truth(small, "2.14")
    assert (
        orjson.dumps([small.tickets, small.conversations, small.admins, small.contacts]) == before
    )


@pytest.mark.parametrize("version", ["2.11", "2.14"])
def test_every_stream_validates_against_its_own_version(small: World, version: str) -> None:
    truth = ground_truth(small, version)
    errors: list[str] = []
    for stream, records in truth.items():
        component = STREAM_COMPONENTS[stream]
        for record in list(records.values())[::7]:
            errors += validation_errors(version, component, record)
    for conversation_id in list(small.conversations)[::40]:
        body = render("conversations", small.conversation(conversation_id, 500) or {}, version)
        errors += validation_errors(version, "conversation", body)
    assert errors == []


# -- 2.12 and 2.13: each difference from 2.11 in exactly the versions that have it ----------------

LATER = ("2.12", "2.13", "2.14")


def _with_parts(small: World) -> Record:
    conversation_id = next(
        cid
        for cid, c in small.conversations.items()
        if c["ai_agent_participated"] and "conversation_rating" in c
    )
    body = small.conversation(conversation_id, 500)
    assert body is not None
    return body


@pytest.mark.parametrize("version", LATER)
def test_every_later_version_has_the_2_12_differences(small: World, version: str) -> None:
    """From 2.12 on: ticket states are objects, admin avatars URLs, no formatted_phone, no
    conversation topics (as the 2.12, 2.13 and 2.14 descriptions show)."""
    ticket = next(iter(small.tickets.values()))
    rendered = render("tickets", ticket, version)
    assert rendered["ticket_state"] == ticket_state_object(ticket["ticket_state"])
    assert "ticket_state_internal_label" not in rendered
    assert len(rendered["ticket_type"]["ticket_states"]["data"]) == 4
    admin = next(a for a in small.admins.values() if a["avatar"])
    assert render("admins", admin, version)["avatar"] == admin["avatar"]["image_url"]
    contact = next(c for c in small.contacts.values() if c["formatted_phone"])
    assert "formatted_phone" not in render("contacts", contact, version)
    assert "topics" not in render("conversations", _with_parts(small), version)
    # And what no version changes is the stored record itself.
    for kind, records in (("segments", small.segments), ("tags", small.tags)):
        record = next(iter(records.values()))
        assert render(kind, record, version) is record
    company = next(iter(small.companies.values()))
    assert render("companies", company, version) is company


@pytest.mark.parametrize("version", LATER)
def test_the_later_differences_come_exactly_where_documented(small: World, version: str) -> None:
    """2.13 adds a part's app_package_code; everything else below is 2.14's alone."""
    admin = render("admins", next(iter(small.admins.values())), version)
    assert ("away_status_reason_id" in admin) is (version == "2.14")
    team = render("teams", next(iter(small.teams.values())), version)
    assert ("distribution_method" in team) is (version == "2.14")
    conversation = render("conversations", _with_parts(small), version)
    assert ("updated_at" in conversation["conversation_rating"]) is (version == "2.14")
    assert ("created_at" in conversation["ai_agent"]) is (version == "2.14")
    assert ("from_ai_agent" in conversation["source"]["author"]) is (version == "2.14")
    for part in conversation["conversation_parts"]["conversation_parts"]:
        assert ("app_package_code" in part) is (version in ("2.13", "2.14"))
        assert ("from_ai_agent" in part["author"]) is (version == "2.14")
    log = {"id": "x", "created_at": 1, "activity_type": "admin_assignment_limit_change"}
    renamed = render("activity_logs", log, version)["activity_type"]
    assert (renamed == "admin_conversation_assignment_limit_change") is (version == "2.14")


@pytest.mark.parametrize("version", ["2.12", "2.13"])
def test_2_12_and_2_13_truth_validates_against_2_14(small: World, version: str) -> None:
    """Their descriptions are not among the files here; their shapes differ from 2.14 only
    by fields 2.14 adds, so each record must validate against 2.14's component."""
    truth = ground_truth(small, version)
    errors: list[str] = []
    for stream, records in truth.items():
        for record in list(records.values())[::11]:
            errors += validation_errors("2.14", STREAM_COMPONENTS[stream], record)
    errors += validation_errors(
        "2.14", "conversation", render("conversation", _with_parts(small), version)
    )
    assert errors == []
    # ...and not against 2.11's: the versions really differ.
    assert validation_errors("2.11", "ticket", next(iter(truth["tickets"].values())))
