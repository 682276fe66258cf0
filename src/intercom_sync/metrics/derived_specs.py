"""Names of the derived metrics: computations that one aggregate over one shape cannot express.

Only names, how they may be drawn and what they are about live here (validation and the
filters need them); the computations themselves are in `derived.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

CONVERSATION = "intercom_conversation"


@dataclass(frozen=True)
class DerivedSpec:
    kinds: tuple[str, ...]
    description: str
    # The entity type its figures are about (which filters apply), or None for the store.
    owner: str | None = CONVERSATION


DERIVED_SPECS: dict[str, DerivedSpec] = {
    "unassigned_queue_depth": DerivedSpec(
        ("timeseries",),
        "Conversations open and unassigned at the end of each bucket, replayed from the "
        "state-change events.",
    ),
    "conversation_states": DerivedSpec(
        ("stat",),
        "Conversations open, snoozed and closed at the end of the range, from their events.",
    ),
    "backlog_age": DerivedSpec(
        ("distribution",),
        "Conversations open at the end of the range, by how long since they were created.",
    ),
    "oldest_open": DerivedSpec(
        ("table",),
        "The conversations open longest at the end of the range, linked to Intercom's inbox.",
    ),
    "ticket_states": DerivedSpec(
        ("distribution",),
        "Tickets not resolved at the end of the range, by state, from their events.",
        owner="intercom_ticket",
    ),
    "teammates": DerivedSpec(
        ("table",),
        "Per teammate: dbt's admin metrics (credited to the last admin who closed) and their "
        "replies, for conversations created in the window.",
    ),
    "tags_table": DerivedSpec(
        ("table",),
        "Per tag: conversations created in the window, their reopens (from parts) and rating.",
    ),
    "conversations_without_parts": DerivedSpec(
        ("stat",),
        "Conversations created in the window whose parts the store lacks: left out of every "
        "part-based figure.",
    ),
    "parts_gaps": DerivedSpec(
        ("stat",),
        "Conversations whose stored parts are fewer than Intercom's statistics say.",
    ),
    "volume_by_segment": DerivedSpec(
        ("distribution",),
        "Conversations created in the window, per segment of the contacts they involve.",
    ),
    "stream_freshness": DerivedSpec(
        ("table",),
        "Per stream: when it last synced, how long ago, the last run's outcome, rows stored.",
        owner=None,
    ),
}
