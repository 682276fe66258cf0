"""Portable SQL: the statements every backend runs, written once.

Only three things differ between SQLite and PostgreSQL here: the placeholder, the column
type names, and how a transaction starts. Everything else (upserts with ON CONFLICT,
row-value IN lists, partial updates) is standard SQL both engines accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from intercom_sync.store.schema import ColumnType, RawTable, Table


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    types: dict[ColumnType, str]

    def params(self, n: int) -> str:
        return ", ".join([self.placeholder] * n)

    def translate(self, sql: str) -> str:
        """Statements are written with `?`; rewrite them for this dialect."""
        if self.placeholder == "?":
            return sql
        return sql.replace("%", "%%").replace("?", self.placeholder)


SQLITE = Dialect(
    "sqlite",
    "?",
    {"text": "TEXT", "int": "INTEGER", "real": "REAL", "bool": "INTEGER", "json": "TEXT"},
)
POSTGRES = Dialect(
    "postgresql",
    "%s",
    {
        "text": "TEXT",
        "int": "BIGINT",
        "real": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "json": "JSONB",
    },
)

# The raw JSON of a record is kept exactly as received, so it is text, never JSONB.
RAW_TEXT_COLUMNS = frozenset({"raw"})


def create_table(
    d: Dialect, name: str, columns: tuple[tuple[str, ColumnType], ...], key: tuple[str, ...]
) -> str:
    cols = ", ".join(
        f"{c} {d.types['text'] if c in RAW_TEXT_COLUMNS else d.types[t]}" for c, t in columns
    )
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols}, PRIMARY KEY ({', '.join(key)}))"


def create_index(table: str, cols: tuple[str, ...]) -> str:
    return f"CREATE INDEX IF NOT EXISTS ix_{table}_{'_'.join(cols)} ON {table} ({', '.join(cols)})"


def raw_table_ddl(d: Dialect, t: RawTable) -> list[str]:
    stmts = [create_table(d, t.name, t.all_columns, t.key_names)]
    stmts += [create_index(t.name, ix) for ix in t.indexes]
    return stmts


def table_ddl(d: Dialect, t: Table) -> list[str]:
    stmts = [create_table(d, t.name, t.columns, t.key)]
    stmts += [create_index(t.name, ix) for ix in t.indexes]
    return stmts


def upsert(
    d: Dialect,
    table: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    *,
    newer_only: bool = False,
    do_nothing: bool = False,
) -> str:
    """INSERT … ON CONFLICT (key) DO UPDATE every non-key column (`do_nothing`: keep the
    existing row).

    With `newer_only`, an existing row is replaced only when the incoming `updated_at`
    is not older than the stored one (a NULL on either side counts as replaceable).
    """
    head = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({d.params(len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO "
    )
    if do_nothing:
        return head + "NOTHING"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    sql = f"{head}UPDATE SET {updates}"
    if newer_only:
        sql += (
            f" WHERE excluded.updated_at IS NULL OR {table}.updated_at IS NULL"
            f" OR excluded.updated_at >= {table}.updated_at"
        )
    return sql


def key_match(d: Dialect, key: tuple[str, ...], n: int) -> str:
    """A WHERE clause matching n keys: `id IN (?, ?)` or `(a, b) IN (VALUES (?, ?), …)`."""
    if len(key) == 1:
        return f"{key[0]} IN ({d.params(n)})"
    row = f"({d.params(len(key))})"
    return f"({', '.join(key)}) IN (VALUES {', '.join([row] * n)})"
