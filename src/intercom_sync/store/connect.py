"""The one place that opens database connections: a store's read-write connection, and
the read-only one `intercom-sync query` runs a user's SQL through."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str:
    """`sqlite:///rel/path.db`, `sqlite:////abs/path.db`, or a bare path."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if url.startswith("sqlite://"):
        raise ValueError(f"store.url: use sqlite:///path/to/file.db (got {url!r})")
    return url


def connect_sqlite(url: str, *, read_only: bool = False) -> sqlite3.Connection:
    """WAL mode, one writer, many readers. Read-only: `mode=ro`, and the file must exist."""
    path = sqlite_path(url)
    if read_only:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"no store at {file}")
        return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: the store issues BEGIN itself, so a page and its checkpoint are
    # exactly one transaction. check_same_thread=False: the engine hands the connection to
    # a single writer thread (never two threads at once).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=60000")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA wal_autocheckpoint=16384")
    return conn


def connect_postgres(url: str, *, read_only: bool = False) -> Any:
    """Autocommit (the store issues BEGIN itself); read-only: every transaction READ ONLY."""
    try:
        import psycopg  # optional: pip install 'intercom-sync[postgres]'
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "store.url is PostgreSQL but psycopg is not installed: "
            "pip install 'intercom-sync[postgres]'"
        ) from exc
    if read_only:
        return psycopg.connect(url, options="-c default_transaction_read_only=on")
    return psycopg.connect(url, autocommit=True)
