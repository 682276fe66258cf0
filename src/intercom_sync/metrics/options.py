"""What a view may filter by, read from the store: teams, teammates, channels and tags.

The page offers these in its controls, `/api/filters` lists them, and a request naming an
id the store does not hold is refused (a typo should not show an empty dashboard).
"""

from __future__ import annotations

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.scope import CONVERSATION
from intercom_sync.metrics.view import Filters, ViewError
from intercom_sync.store.base import Store
from intercom_sync.store.sql import for_store

# filter → (entity type of its ids, what to call one)
_IDS = {
    "team": ("intercom_team", "team"),
    "admin": ("intercom_admin", "teammate"),
    "tag": ("intercom_tag", "tag"),
}
_NAME = Field("name", "text")
_CHANNEL = Field("channel", "text")


def filter_options(store: Store, connector: str) -> dict[str, list[dict[str, str]]]:
    """Every team, teammate and tag (id and name, by name) and the channels conversations
    came in by."""
    d = for_store(store.dialect)
    out: dict[str, list[dict[str, str]]] = {}
    for key, (entity_type, _) in _IDS.items():
        rows = store.query(
            f"SELECT s.entity_id, {d.field(_NAME, 's')} FROM entities s "  # noqa: S608
            "WHERE s.connector = ? AND s.entity_type = ? AND s.deleted_at IS NULL",
            [connector, entity_type],
        )
        items = [{"id": str(i), "name": str(n) if n else str(i)} for i, n in rows]
        out[f"{key}s"] = sorted(items, key=lambda item: (item["name"].lower(), item["id"]))
    channels = store.query(
        f"SELECT DISTINCT {d.field(_CHANNEL, 's')} FROM entities s "  # noqa: S608
        "WHERE s.connector = ? AND s.entity_type = ? AND s.deleted_at IS NULL",
        [connector, CONVERSATION],
    )
    out["channels"] = [
        {"id": str(c), "name": str(c)} for c in sorted(str(r[0]) for r in channels if r[0])
    ]
    return out


def check_filters(store: Store, connector: str, filters: Filters) -> None:
    """Refuse a team, teammate or tag id the store does not hold."""
    for key, (entity_type, noun) in _IDS.items():
        value = getattr(filters, key)
        if value is None:
            continue
        found = store.query(
            "SELECT 1 FROM entities WHERE connector = ? AND entity_type = ? AND entity_id = ? "
            "AND deleted_at IS NULL",
            [connector, entity_type, value],
        )
        if not found:
            raise ViewError(key, f"no {noun} with id {value!r} in this store")
