"""SQLite, the embedded default: WAL mode, one writer, many readers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from intercom_sync.store import sql
from intercom_sync.store.dbapi import DbApiStore
from intercom_sync.store.problems import StoreUnavailable, sqlite_problem


def sqlite_path(url: str) -> str:
    """`sqlite:///rel/path.db`, `sqlite:////abs/path.db`, or a bare path."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if url.startswith("sqlite://"):
        raise ValueError(f"store.url: use sqlite:///path/to/file.db (got {url!r})")
    return url


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
        path = sqlite_path(self.url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a page and its checkpoint are
        # exactly one transaction. check_same_thread=False: the engine hands the connection
        # to a single writer thread (never two threads at once).
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA wal_autocheckpoint=16384")
        return conn

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
