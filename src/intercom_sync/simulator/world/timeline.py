"""A conversation's history as compact part records, and what follows from it.

Parts are kept as small tuples (`PartRecord`) rather than dicts: the `large`
preset holds about a million of them. `render_part` turns one into the 2.11
`conversation_part` object on demand, deterministically.

`summarize` replays a timeline and derives everything Intercom reports about
the conversation from its parts: state, assignees, `waiting_since`, `read`,
the participating teammates and the `statistics` block. Both the generator and
the mutations call it, which is what keeps statistics consistent with parts.

Business-hours adjustment of the `time_to_*` figures is not modelled: they are
plain differences in seconds from `first_contact_reply_at`.
"""

from __future__ import annotations

import statistics as stats
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Part types that (re)assign the conversation.
ASSIGNMENT_TYPES = frozenset({"assignment", "default_assignment", "away_mode_assignment"})
CONTACT_AUTHOR_TYPES = frozenset({"user", "lead", "contact"})


class PartRecord(NamedTuple):
    """One conversation part. `author` and `assigned_to` are shared, never mutated."""

    id: int
    created_at: int
    part_type: str
    author: dict[str, Any]
    assigned_to: dict[str, Any] | None = None
    body: str | None = None
    snoozed_until: int | None = None


@dataclass(slots=True)
class Timeline:
    """Everything needed to replay a conversation: how it started and its parts."""

    created_at: int
    contact_initiated: bool
    parts: list[PartRecord] = field(default_factory=list)


def render_part(part: PartRecord) -> dict[str, Any]:
    """The 2.11 `conversation_part` object for a record (fresh dicts every call)."""
    return {
        "type": "conversation_part",
        "id": str(part.id),
        "part_type": part.part_type,
        "body": part.body,
        "created_at": part.created_at,
        "updated_at": part.created_at,
        "notified_at": part.created_at,
        "assigned_to": dict(part.assigned_to) if part.assigned_to is not None else None,
        "author": dict(part.author),
        "attachments": [],
        "external_id": None,
        "redacted": False,
    }


@dataclass(slots=True)
class TimelineSummary:
    state: str
    snoozed_until: int | None
    admin_assignee_id: int | None
    team_assignee_id: int | None
    waiting_since: int | None
    read: bool
    teammate_ids: list[str]
    last_part_at: int | None
    statistics: dict[str, Any]


@dataclass(slots=True)
class _Replay:
    """Mutable state while walking a timeline from its start."""

    first_contact_reply_at: int | None
    last_contact_reply_at: int | None
    state: str = "open"
    snoozed_until: int | None = None
    admin: int | None = None
    team: int | None = None
    awaiting_since: int | None = None
    first_assignment_at: int | None = None
    last_assignment_at: int | None = None
    assignment_before_first_reply: int | None = None
    count_assignments: int = 0
    first_admin_reply_at: int | None = None
    last_admin_reply_at: int | None = None
    last_assignment_admin_reply_at: int | None = None
    first_close_at: int | None = None
    last_close_at: int | None = None
    last_closed_by_id: str | None = None
    count_reopens: int = 0
    reply_times: list[int] = field(default_factory=list)
    teammates: dict[str, None] = field(default_factory=dict)

    def contact_comment(self, at: int) -> None:
        if self.first_contact_reply_at is None:
            self.first_contact_reply_at = at
        self.last_contact_reply_at = at
        if self.awaiting_since is None:
            self.awaiting_since = at
        if self.state == "closed":
            self.count_reopens += 1
        self.state, self.snoozed_until = "open", None

    def admin_comment(self, at: int) -> None:
        if self.first_contact_reply_at is not None:
            if self.first_admin_reply_at is None:
                self.first_admin_reply_at = at
            if self.last_assignment_at is not None and self.last_assignment_admin_reply_at is None:
                self.last_assignment_admin_reply_at = at
        self.last_admin_reply_at = at
        if self.awaiting_since is not None:
            self.reply_times.append(at - self.awaiting_since)
            self.awaiting_since = None

    def assignment(self, at: int, assigned_to: dict[str, Any] | None) -> None:
        target = assigned_to or {"type": "nobody_admin", "id": None}
        if target["type"] == "team":
            self.team, self.admin = int(target["id"]), None
        elif target["type"] == "admin":
            self.admin = int(target["id"])
        else:
            self.admin = None
        if self.first_contact_reply_at is None:
            return
        self.count_assignments += 1
        if self.first_assignment_at is None:
            self.first_assignment_at = at
        self.last_assignment_at = at
        self.last_assignment_admin_reply_at = None
        if self.first_admin_reply_at is None:
            self.assignment_before_first_reply = at

    def close(self, at: int, by: dict[str, Any]) -> None:
        self.state, self.snoozed_until = "closed", None
        if self.first_contact_reply_at is None:
            return
        if self.first_close_at is None:
            self.first_close_at = at
        self.last_close_at = at
        self.last_closed_by_id = str(by["id"])

    def reopen(self) -> None:
        if self.state == "closed" and self.first_contact_reply_at is not None:
            self.count_reopens += 1
        self.state, self.snoozed_until = "open", None


def _apply(replay: _Replay, part: PartRecord) -> None:
    author_type = part.author["type"]
    if author_type == "admin":
        replay.teammates[str(part.author["id"])] = None
    kind = part.part_type
    if kind == "comment":
        if author_type in CONTACT_AUTHOR_TYPES:
            replay.contact_comment(part.created_at)
        elif author_type == "admin":
            replay.admin_comment(part.created_at)
    elif kind in ASSIGNMENT_TYPES:
        replay.assignment(part.created_at, part.assigned_to)
    elif kind == "close":
        replay.close(part.created_at, part.author)
    elif kind in ("open", "timer_unsnooze"):
        replay.reopen()
    elif kind == "snoozed":
        replay.state, replay.snoozed_until = "snoozed", part.snoozed_until


def summarize(timeline: Timeline) -> TimelineSummary:
    """Replay the parts and derive the conversation's state and statistics."""
    start = timeline.created_at if timeline.contact_initiated else None
    replay = _Replay(first_contact_reply_at=start, last_contact_reply_at=start)
    if start is not None:
        replay.awaiting_since = start
    for part in timeline.parts:
        _apply(replay, part)
    waiting = replay.awaiting_since if replay.state == "open" else None
    return TimelineSummary(
        state=replay.state,
        snoozed_until=replay.snoozed_until,
        admin_assignee_id=replay.admin,
        team_assignee_id=replay.team,
        waiting_since=waiting,
        read=replay.awaiting_since is None,
        teammate_ids=list(replay.teammates),
        last_part_at=timeline.parts[-1].created_at if timeline.parts else None,
        statistics=_statistics(replay, len(timeline.parts)),
    )


def _since(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def _statistics(replay: _Replay, part_count: int) -> dict[str, Any]:
    """The `conversation_statistics` object; fields that do not apply are omitted.

    (The 2.11 schema types them as non-nullable integers, so absent beats null.)
    """
    start = replay.first_contact_reply_at
    median = int(stats.median(replay.reply_times)) if replay.reply_times else None
    values: dict[str, Any] = {
        "type": "conversation_statistics",
        "time_to_assignment": _since(start, replay.assignment_before_first_reply),
        "time_to_admin_reply": _since(start, replay.first_admin_reply_at),
        "time_to_first_close": _since(start, replay.first_close_at),
        "time_to_last_close": _since(start, replay.last_close_at),
        "median_time_to_reply": median,
        "first_contact_reply_at": start,
        "first_assignment_at": replay.first_assignment_at,
        "first_admin_reply_at": replay.first_admin_reply_at,
        "first_close_at": replay.first_close_at,
        "last_assignment_at": replay.last_assignment_at,
        "last_assignment_admin_reply_at": replay.last_assignment_admin_reply_at,
        "last_contact_reply_at": replay.last_contact_reply_at,
        "last_admin_reply_at": replay.last_admin_reply_at,
        "last_close_at": replay.last_close_at,
        "last_closed_by_id": replay.last_closed_by_id,
        "count_reopens": replay.count_reopens,
        "count_assignments": replay.count_assignments,
        "count_conversation_parts": part_count,
    }
    return {key: value for key, value in values.items() if value is not None}
