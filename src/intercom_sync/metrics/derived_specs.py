"""Names of the derived metrics: computations that one aggregate over one shape cannot express.

Only names and how they may be drawn live here (validation needs them); the
computations themselves are in `derived.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DerivedSpec:
    kinds: tuple[str, ...]
    description: str


DERIVED_SPECS: dict[str, DerivedSpec] = {
    "unassigned_queue_depth": DerivedSpec(
        ("timeseries",),
        "Conversations open and unassigned at the end of each bucket, replayed from the "
        "state-change events.",
    ),
    "parts_gaps": DerivedSpec(
        ("stat",),
        "Conversations whose stored parts are fewer than Intercom's statistics say.",
    ),
    "stream_freshness": DerivedSpec(
        ("table",),
        "Per stream: when it last synced, how long ago, and the last run's outcome.",
    ),
}
