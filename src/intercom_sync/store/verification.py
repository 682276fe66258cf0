"""The record of a stream's last check against Intercom's counts, as kept in the sync state.

A sync (after each pass) and `intercom-sync verify` write it under `verify:<stream>`;
`status` and the dashboard read it. Written by the engine, read by anyone: so it lives with
the store, whose state it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

PREFIX = "verify:"


def verification_key(stream: str) -> str:
    return f"{PREFIX}{stream}"


def is_verification_key(name: str) -> bool:
    return name.startswith(PREFIX)


def verification_text(record: dict[str, Any] | None) -> str:
    """The last check in a few words: whether the copy agreed, and when."""
    if not record:
        return "—"
    at = record.get("at")
    when = datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%d %H:%M:%SZ") if at else "—"
    if "intercom" not in record:
        return f"not checked ({record.get('skipped') or 'no count'}) {when}"
    theirs, ours = int(record["intercom"]), int(record["store"])
    if theirs == ours:
        return f"agrees ({theirs:,}) {when}"
    gap = f"{theirs - ours:,} missing" if theirs > ours else f"{ours - theirs:,} extra"
    return f"DISAGREES ({gap}) {when}"
