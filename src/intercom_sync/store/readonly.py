"""Run a user's SQL against the store through a connection that cannot write.

`intercom-sync query` takes arbitrary SQL, so it never uses the store's read-write
connection, and it refuses — before anything runs — whatever would change the store or
reach past it:

* SQLite is opened with `mode=ro`, and an authorizer allows only reading: no INSERT,
  UPDATE, DELETE, CREATE, DROP, ALTER, no ATTACH or DETACH (which create or open other
  files; VACUUM, and VACUUM INTO, attach too), no PRAGMA that sets a value.
* PostgreSQL runs the statement alone (the extended protocol takes exactly one, so
  `SET …; DELETE …; COMMIT` cannot be smuggled in), in a READ ONLY transaction that is
  never committed, and only statements that read: SELECT, WITH, VALUES, TABLE, EXPLAIN,
  SHOW (COPY, DO and CALL can write files or run code that does).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intercom_sync.store.connect import (
    connect_postgres,
    connect_sqlite,
    is_postgres_url,
    sqlite_path,
)
from intercom_sync.store.problems import postgres_problem, sqlite_problem

Result = tuple[list[str], list[tuple[Any, ...]]]


class QueryRefused(Exception):
    """The statement would write, or open something other than the store."""

    def __init__(self, what: str, runs: str, shell: str) -> None:
        super().__init__(
            f"refused: {what}; `intercom-sync query` is read-only (it runs {runs}): change "
            f"the store with the {shell} shell instead"
        )


def run_readonly(url: str, sql_text: str, limit: int | None = None) -> Result:
    """Column names and rows of `sql_text`. Raises `QueryRefused` for a statement that
    would write, `StoreUnavailable` when the store cannot be read, and the driver's error
    on bad SQL."""
    if is_postgres_url(url):
        return _postgres(url, sql_text, limit)
    return _sqlite(url, sql_text, limit)


# -- SQLite ----------------------------------------------------------------------------------

_SQLITE_RUNS = "SELECT, WITH, EXPLAIN and PRAGMAs that only report"
_ALLOWED = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
# PRAGMAs that only report; those in _NAMING take a table or index name (or a count).
_READ_PRAGMAS = frozenset(
    {
        "application_id", "collation_list", "compile_options", "database_list", "encoding",
        "foreign_key_check", "foreign_key_list", "freelist_count", "function_list",
        "index_info", "index_list", "index_xinfo", "integrity_check", "journal_mode",
        "module_list", "page_count", "page_size", "pragma_list", "quick_check",
        "schema_version", "table_info", "table_list", "table_xinfo", "user_version",
    }
)  # fmt: skip
_NAMING = frozenset(
    {
        "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
        "integrity_check", "quick_check", "table_info", "table_list", "table_xinfo",
    }
)  # fmt: skip
_SCHEMA_TABLES = frozenset(
    {"sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"}
)
_WRITES = {
    sqlite3.SQLITE_INSERT: "INSERT into {0}",
    sqlite3.SQLITE_UPDATE: "UPDATE of {0}",
    sqlite3.SQLITE_DELETE: "DELETE from {0}",
    sqlite3.SQLITE_ATTACH: "ATTACH (or VACUUM) opens or creates another database file",
    sqlite3.SQLITE_DETACH: "DETACH",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE {1}",
    sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_ANALYZE: "ANALYZE",
    sqlite3.SQLITE_TRANSACTION: "{0} (transactions)",
    sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
}


def _describe(action: int, arg1: str | None, arg2: str | None) -> str:
    if arg1 in _SCHEMA_TABLES:  # CREATE and DROP first write the schema table
        return "a statement that changes the schema (CREATE, DROP)"
    if action == sqlite3.SQLITE_PRAGMA:
        return f"PRAGMA {arg1} = {arg2} sets a value" if arg2 else f"PRAGMA {arg1}"
    template = _WRITES.get(action)
    if template is not None:
        return template.format(arg1, arg2)
    if action in (sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE):
        return f"{'CREATE' if action == sqlite3.SQLITE_CREATE_VTABLE else 'DROP'} VIRTUAL TABLE"
    # The CREATE_* and DROP_* codes (tables, indexes, views, triggers, temp or not).
    return f"CREATE or DROP of {arg1}" if arg1 else "a statement that changes the schema"


def _reporting_pragma(action: int, name: str | None, value: str | None) -> bool:
    """A PRAGMA that only reports (`table_info(x)` names a table; `user_version = 5` sets)."""
    return (
        action == sqlite3.SQLITE_PRAGMA
        and name in _READ_PRAGMAS
        and (value is None or name in _NAMING)
    )


def _authorizer(refused: list[str]) -> Callable[..., int]:
    def authorize(
        action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None
    ) -> int:
        if action in _ALLOWED:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 in _SCHEMA_TABLES:
            # SQLite asks this while preparing a read of a pragma table (pragma_table_info);
            # a real UPDATE of the schema table needs PRAGMA writable_schema, refused below.
            return sqlite3.SQLITE_OK
        if _reporting_pragma(action, arg1, arg2):
            return sqlite3.SQLITE_OK
        if not refused:
            refused.append(_describe(action, arg1, arg2))
        return sqlite3.SQLITE_DENY

    return authorize


def _sqlite(url: str, sql_text: str, limit: int | None) -> Result:
    path = Path(sqlite_path(url))
    conn = connect_sqlite(url, read_only=True)
    refused: list[str] = []
    conn.set_authorizer(_authorizer(refused))
    try:
        cur = conn.execute(sql_text)
        rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
        columns = [d[0] for d in cur.description or ()]
    except sqlite3.DatabaseError as error:
        if refused:
            raise QueryRefused(refused[0], _SQLITE_RUNS, "sqlite3") from None
        if getattr(error, "sqlite_errorname", None) in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise sqlite_problem(path, error, writing=False) from None
        raise
    finally:
        conn.close()
    return columns, [tuple(r) for r in rows]


# -- PostgreSQL ------------------------------------------------------------------------------

_READING = frozenset({"select", "with", "values", "table", "explain", "show"})
_POSTGRES_RUNS = "SELECT, WITH, VALUES, TABLE, EXPLAIN and SHOW"
_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*(\w*)", re.DOTALL)


def first_keyword(sql_text: str) -> str:
    """The statement's first word, past whitespace, comments and opening parentheses."""
    match = _LEAD.match(sql_text)
    return match.group(1).lower() if match else ""


def _postgres(url: str, sql_text: str, limit: int | None) -> Result:
    import psycopg

    keyword = first_keyword(sql_text)
    if keyword not in _READING:
        what = f"{keyword.upper() or 'this statement'} does not only read"
        raise QueryRefused(what, _POSTGRES_RUNS, "psql")
    try:
        conn = connect_postgres(url, read_only=True)
    except psycopg.OperationalError as error:
        raise postgres_problem(url, error) from None
    try:
        conn.read_only = True  # BEGIN READ ONLY; the transaction is closed, never committed
        # prepare=True: the extended protocol, which runs exactly one statement.
        cur = conn.execute(sql_text.encode(), prepare=True)
        if cur.description is None:
            return [], []
        rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
        return [d.name for d in cur.description], [tuple(r) for r in rows]
    except psycopg.errors.ReadOnlySqlTransaction as error:
        raise QueryRefused(str(error).splitlines()[0], _POSTGRES_RUNS, "psql") from None
    except psycopg.errors.SyntaxError as error:
        if "multiple commands" in str(error):  # what the extended protocol says to `a; b`
            raise QueryRefused("more than one statement", _POSTGRES_RUNS, "psql") from None
        raise
    finally:
        conn.close()
