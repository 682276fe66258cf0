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
from intercom_sync.store.connect import is_postgres_url
from intercom_sync.store.indexes import index_statements
from intercom_sync.store.postgres import PostgresStore
from intercom_sync.store.problems import StoreUnavailable
from intercom_sync.store.sqlite import SQLiteStore


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a URL names: `sqlite:///file.db` (or a path) or `postgresql://…`.

    A store that cannot be used (a read-only file, folder or filesystem, a file that is
    not a database, a PostgreSQL server that refuses) raises `StoreUnavailable`, whose
    message names the cause and the fix — here, or at the first write that fails.
    """
    store: Store = PostgresStore(url) if is_postgres_url(url) else SQLiteStore(url)
    if not migrate:
        return store
    try:
        store.migrate()
        # The dashboard's indexes are expressions over the shapes' JSON, spelled by the
        # one dialect layer exactly as the metric queries spell them; created with the
        # schema so every store is fast to read from its first sync on.
        store.execute_ddl(index_statements(store.dialect))
    except BaseException:
        store.close()
        raise
    return store


def apply_indexes(url: str, *, analyze: bool = True) -> list[str]:
    """Make sure the store at `url` has the dashboard's indexes (opening it creates them);
    with `analyze`, refresh the planner's statistics too. Returns the DDL."""
    store = open_store(url)
    try:
        if analyze:
            store.analyze()
    finally:
        store.close()
    return index_statements(store.dialect)


__all__ = [
    "ApplyResult",
    "PageWrite",
    "PartsGap",
    "RecordWrite",
    "RunRecord",
    "Shapes",
    "Store",
    "StoreUnavailable",
    "apply_indexes",
    "open_store",
]
