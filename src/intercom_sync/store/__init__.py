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
from intercom_sync.store.problems import StoreUnavailable


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a URL names: `sqlite:///file.db` (or a path) or `postgresql://…`.

    A store that cannot be used (a read-only file, folder or filesystem, a file that is
    not a database, a PostgreSQL server that refuses) raises `StoreUnavailable`, whose
    message names the cause and the fix — here, or at the first write that fails.
    """
    store: Store
    if url.startswith(("postgresql://", "postgres://")):
        from intercom_sync.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        from intercom_sync.store.sqlite import SQLiteStore

        store = SQLiteStore(url)
    if not migrate:
        return store
    try:
        store.migrate()
        # The dashboard's indexes are expressions over the shapes' JSON, spelled by the
        # metrics layer exactly as its queries spell them; created with the schema so
        # every store is fast to read from its first sync on.
        from intercom_sync.metrics.indexes import index_statements

        store.execute_ddl(index_statements(store.dialect))
    except BaseException:
        store.close()
        raise
    return store


__all__ = [
    "ApplyResult",
    "PageWrite",
    "PartsGap",
    "RecordWrite",
    "RunRecord",
    "Shapes",
    "Store",
    "StoreUnavailable",
    "open_store",
]
