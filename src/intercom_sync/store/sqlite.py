"""SQLite, the embedded default: WAL mode, one writer, many readers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import intercom_sync.store.sql as sql
from intercom_sync.store.connect import connect_sqlite, sqlite_path
from intercom_sync.store.dbapi import DbApiStore
from intercom_sync.store.problems import StoreUnavailable, sqlite_problem

# Primary result codes that are about the file, not the SQL: permission, read-only, I/O
# error, corrupt, disk full, cannot open, not a database.
_FILE_ERRORS = frozenset({3, 8, 10, 11, 13, 14, 26})


class SQLiteStore(DbApiStore):
    dialect_def = sql.SQLITE

    def _problem(self, error: Exception) -> StoreUnavailable | None:
        path = sqlite_path(self.url)
        if path == ":memory:":
            return None
        code = getattr(error, "sqlite_errorcode", None)
        about_the_file = isinstance(error, OSError) or (
            isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _FILE_ERRORS
        )
        return sqlite_problem(Path(path), error) if about_the_file else None

    def _connect(self) -> Any:
        return connect_sqlite(self.url)

    def analyze(self) -> None:
        # Statistics from a sample of each index: enough for the planner to tell a
        # selective index from a broad one, in milliseconds even on a large store.
        self._conn.execute("PRAGMA analysis_limit=1000")
        self._conn.execute("ANALYZE")

    def optimize(self) -> None:
        # Cheap: analyses only the tables whose statistics are stale.
        self._conn.execute("PRAGMA optimize")

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock up front, so two processes never deadlock on upgrade.
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
