"""Names for ids: how widgets label an admin, a team or a tag."""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.catalogue import Field
from intercom_sync.store.base import Store
from intercom_sync.store.sql import for_store

_NAME = Field("name", "text")
_BATCH = 400


def entity_names(store: Store, connector: str, entity_type: str, ids: list[Any]) -> dict[str, str]:
    """The `name` of each of these entities (those that have one)."""
    name = for_store(store.dialect).field(_NAME)
    out: dict[str, str] = {}
    wanted = [str(i) for i in ids]
    for i in range(0, len(wanted), _BATCH):
        chunk = wanted[i : i + _BATCH]
        rows = store.query(
            f"SELECT s.entity_id, {name} FROM entities s WHERE s.connector = ? "  # noqa: S608
            f"AND s.entity_type = ? AND s.entity_id IN ({', '.join('?' * len(chunk))})",
            [connector, entity_type, *chunk],
        )
        out.update({str(eid): str(n) for eid, n in rows if n})
    return out
