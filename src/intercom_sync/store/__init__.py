"""The analytics store: raw tables, shape tables, sync state (DESIGN §3.3)."""

from __future__ import annotations

from intercom_sync.store.base import (
    ApplyResult,
    PageWrite,
    PartsGap,
    RecordWrite,
    RunRecord,
    Shapes,
    Store,
)


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a URL names: `sqlite:///file.db` (or a path) or `postgresql://…`."""
    store: Store
    if url.startswith(("postgresql://", "postgres://")):
        from intercom_sync.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        from intercom_sync.store.sqlite import SQLiteStore

        store = SQLiteStore(url)
    if migrate:
        store.migrate()
        # The dashboard's indexes are expressions over the shapes' JSON, spelled by the
        # metrics layer exactly as its queries spell them; created with the schema so
        # every store is fast to read from its first sync on.
        from intercom_sync.metrics.indexes import index_statements

        store.execute_ddl(index_statements(store.dialect))
    return store


__all__ = [
    "ApplyResult",
    "PageWrite",
    "PartsGap",
    "RecordWrite",
    "RunRecord",
    "Shapes",
    "Store",
    "open_store",
]
