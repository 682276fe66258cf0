"""When a conversation waited in the unassigned queue: open, with no team and no teammate.

Replayed from the conversation's state-change events as the sync builds them
(`streams/events.py`), and written as two more events per wait, `queue_entered` and
`queue_left`, so that how many conversations were waiting at any moment is a count over an
index (entered before it, minus left before it) rather than a replay of every history.
Pure; it sits with the store's schema because both the sync (which writes these events)
and the metrics (which count them) depend on it, as on the rest of the schema.

The rules: a conversation is created open and unassigned; a part assigning a team or an
admin sets that assignee, one assigning nobody clears the admin (the team stays); an
assignment known only from the statistics assigns it; `closed` / `snoozed` take it out of
the open queue and `reopened` / `unsnoozed` put it back (keeping its assignees).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# (at ms, transition, assignedToId, assignedToType) in replay order
QueueInput = tuple[int, str, Any, Any]
Span = tuple[int, int | None]

QUEUE_ENTERED = "queue_entered"
QUEUE_LEFT = "queue_left"
OPENS = frozenset({"created", "reopened", "unsnoozed", "opened"})
LEAVES_OPEN = frozenset({"closed", "snoozed"})
# The transitions the queue depends on (the rest leave it as it is).
QUEUE_INPUTS = frozenset({*OPENS, *LEAVES_OPEN, "assigned"})
_NOBODY = (None, "", "0")


def queue_spans(events: Iterable[QueueInput], source: str) -> list[Span]:
    """Spans [entered, left) of waiting; the last may still be open (left None).

    `source` is where the events come from: "parts" (each assignment says to whom) or
    "statistics" (an assignment happened, to someone)."""
    spans: list[Span] = []
    is_open = False
    admin: Any = None
    team: Any = None
    entered: int | None = None
    for at, transition, assigned_to, assigned_type in events:
        if transition == "created":
            is_open, admin, team = True, None, None
        elif transition in OPENS:
            is_open = True
        elif transition in LEAVES_OPEN:
            is_open = False
        elif transition == "assigned":
            admin, team = _assignees(admin, team, assigned_to, assigned_type, source)
        else:
            continue
        waiting = is_open and admin is None and team is None
        if waiting and entered is None:
            entered = at
        elif not waiting and entered is not None:
            spans.append((entered, at))
            entered = None
    if entered is not None:
        spans.append((entered, None))
    return spans


def _assignees(admin: Any, team: Any, to: Any, to_type: Any, source: str) -> tuple[Any, Any]:
    if source != "parts":
        return "assigned", team
    if to in _NOBODY:
        return None, team
    if to_type == "team":
        return admin, to
    return to, team
