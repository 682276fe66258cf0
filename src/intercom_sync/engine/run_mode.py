"""What a run's `_sync_runs.mode` says: whether it read everything or only what changed.

`--full` asks for full passes, but a run without it reads everything too wherever a
stream has no cursor yet — every stream, on the first run into an empty store. The mode
is written when the run starts (from the flag and the store's state) and corrected when
it ends, from what each stream with a cursor really did (its `mode` detail).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from intercom_sync.engine.context import StreamResult

FULL, INCREMENTAL, MIXED = "full", "incremental", "mixed"


def planned_mode(full: bool, states: Mapping[str, Any], selected: Iterable[str]) -> str:
    """`full` when asked for, or when no selected stream has synced into this store."""
    if full or not any(name in states for name in selected):
        return FULL
    return INCREMENTAL


def actual_mode(planned: str, results: Iterable[StreamResult]) -> str:
    """`full` or `incremental` when every stream with a cursor did that, `mixed` when
    some read everything and others only what changed (e.g. a stream added to
    `resources`); the planned mode when no such stream ran."""
    modes = {r.detail["mode"] for r in results if r.detail.get("mode") in (FULL, INCREMENTAL)}
    if not modes:
        return planned
    return modes.pop() if len(modes) == 1 else MIXED
