"""Run a user's SQL against the store through a connection that cannot write.

`intercom-sync query` takes arbitrary SQL, so it never uses the store's read-write
connection: SQLite is opened with `mode=ro`, PostgreSQL in a read-only session. A
`DELETE` typed by mistake fails instead of deleting.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from intercom_sync.store.sqlite import sqlite_path

Result = tuple[list[str], list[tuple[Any, ...]]]


def run_readonly(url: str, sql_text: str, limit: int | None = None) -> Result:
    """Column names and rows of `sql_text`; raises the driver's error on bad SQL."""
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres(url, sql_text, limit)
    return _sqlite(url, sql_text, limit)


def _sqlite(url: str, sql_text: str, limit: int | None) -> Result:
    path = Path(sqlite_path(url))
    if not path.is_file():
        raise FileNotFoundError(f"no store at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cur = conn.execute(sql_text)
        rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
        columns = [d[0] for d in cur.description or ()]
    finally:
        conn.close()
    return columns, [tuple(r) for r in rows]


def _postgres(url: str, sql_text: str, limit: int | None) -> Result:
    import psycopg

    with psycopg.connect(url, options="-c default_transaction_read_only=on") as conn:
        cur = conn.execute(sql_text.encode())
        if cur.description is None:
            return [], []
        rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
        return [d.name for d in cur.description], [tuple(r) for r in rows]
