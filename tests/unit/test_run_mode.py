"""What `_sync_runs.mode` says a run was (engine/run_mode.py)."""

from __future__ import annotations

from intercom_sync.engine.context import StreamResult
from intercom_sync.engine.run_mode import actual_mode, planned_mode


def result(name: str, mode: str | None = None) -> StreamResult:
    found = StreamResult(name, status="succeeded")
    if mode is not None:
        found.detail["mode"] = mode
    return found


def test_a_run_is_planned_full_when_asked_or_when_nothing_synced_before() -> None:
    assert planned_mode(False, {}, ["admins", "contacts"]) == "full"
    assert planned_mode(False, {"tickets": {}}, ["admins", "contacts"]) == "full"
    assert planned_mode(False, {"contacts": {"cursor": 1}}, ["admins", "contacts"]) == "incremental"
    assert planned_mode(True, {"contacts": {"cursor": 1}}, ["contacts"]) == "full"


def test_the_streams_with_a_cursor_say_what_the_run_really_was() -> None:
    lists = [result("admins"), result("teams")]  # read whole every run: they do not decide
    assert actual_mode("incremental", [*lists, result("contacts", "full")]) == "full"
    assert actual_mode("full", [*lists, result("contacts", "incremental")]) == "incremental"
    mixed = [result("contacts", "incremental"), result("conversations", "full")]
    assert actual_mode("incremental", mixed) == "mixed"
    assert actual_mode("incremental", lists) == "incremental"
