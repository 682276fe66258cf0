"""Portable SQL: the one place that knows how SQLite and PostgreSQL differ.

For the store's own statements, three things differ: the placeholder, the column type
names, and how a transaction starts; upserts with ON CONFLICT, row-value IN lists and
partial updates are standard SQL both accept. For the analytics queries (the metrics
layer) a few fragments differ too: JSON field access (SQLite `json_extract`, PostgreSQL
`->>` with casts), month buckets, list membership and unnesting. Statements are written
with `?` placeholders and `translate`d here.

Only identifiers that match `IDENTIFIER` reach the fragment builders (checked again here, as
a second line of defence); values are always bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from intercom_sync.store.schema import ColumnType, RawTable, Table

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Bucket = Literal["hour", "day", "week", "month"]
ALIAS = "s"
_FIXED_MS = {"hour": 3_600_000, "day": 86_400_000}


class FieldLike(Protocol):
    """A field of a shape row: a real column (`column`), or a key of its `attributes` JSON,
    of a value type ("text", "number", "time", "bool", "list", …)."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def column(self) -> bool: ...


def _ident(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    types: dict[ColumnType, str]

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def params(self, n: int) -> str:
        return ", ".join([self.placeholder] * n)

    def translate(self, sql: str) -> str:
        """Statements are written with `?`; rewrite them for this dialect."""
        if self.placeholder == "?":
            return sql
        return sql.replace("%", "%%").replace("?", self.placeholder)

    # -- values (analytics) ------------------------------------------------------------------
    def field(self, f: FieldLike, alias: str = ALIAS) -> str:
        """A typed scalar expression for a field of the row aliased `alias` ("" for none)."""
        prefix = f"{_ident(alias)}." if alias else ""
        if f.column:
            return f"{prefix}{_ident(f.name)}"
        key = _ident(f.name)
        if not self.postgres:
            return f"json_extract({prefix}attributes, '$.{key}')"
        text = f"({prefix}attributes->>'{key}')"
        cast = {"number": "DOUBLE PRECISION", "time": "BIGINT", "bool": "BOOLEAN"}.get(f.type)
        return f"CAST({text} AS {cast})" if cast else text

    def json_values(self, keys: tuple[str, ...], alias: str = ALIAS) -> str:
        """Several attributes at once as one JSON array (one parse per row on SQLite)."""
        prefix = f"{_ident(alias)}." if alias else ""
        if self.postgres:
            items = ", ".join(f"{prefix}attributes->'{_ident(k)}'" for k in keys)
            return f"jsonb_build_array({items})"
        paths = ", ".join(f"'$.{_ident(k)}'" for k in keys)
        return f"json_extract({prefix}attributes, {paths})"

    def number(self, expr: str, f: FieldLike) -> str:
        """The field as something SUM/AVG accept (PostgreSQL will not average booleans)."""
        if f.type == "bool" and self.postgres:
            return f"CAST({expr} AS INTEGER)"
        return expr

    def unindexed(self, expr: str) -> str:
        """`expr`, kept from driving the plan: SQLite's unary `+` stops it from picking an
        index on the column (PostgreSQL's planner needs no such hint)."""
        return expr if self.postgres else f"+{expr}"

    def param(self, value: Any) -> Any:
        if isinstance(value, bool) and not self.postgres:
            return int(value)
        return value

    # -- predicates (analytics) --------------------------------------------------------------
    def list_contains(self, f: FieldLike) -> str:
        """True when the list field holds the (bound) element."""
        key = _ident(f.name)
        if self.postgres:
            element = "jsonb_build_array(CAST(? AS TEXT))"
            return f"COALESCE({ALIAS}.attributes->'{key}' @> {element}, FALSE)"
        elements = f"json_each({ALIAS}.attributes, '$.{key}') AS je"
        return f"EXISTS (SELECT 1 FROM {elements} WHERE je.value = ?)"

    def text_contains(self, expr: str) -> str:
        """Case-sensitive substring test against a bound needle (no LIKE wildcards)."""
        return f"strpos({expr}, ?) > 0" if self.postgres else f"instr({expr}, ?) > 0"

    # -- grouping (analytics) ----------------------------------------------------------------
    def unnest(self, f: FieldLike) -> tuple[str, str]:
        """A join producing one row per element of a list field, and the element expression."""
        key = _ident(f.name)
        if self.postgres:
            source = (
                f"CASE WHEN jsonb_typeof({ALIAS}.attributes->'{key}') = 'array' "
                f"THEN {ALIAS}.attributes->'{key}' END"
            )
            return f" CROSS JOIN LATERAL jsonb_array_elements_text({source}) AS j(value)", "j.value"
        return f" JOIN json_each({ALIAS}.attributes, '$.{key}') AS j", "j.value"

    def bucket(self, time_expr: str, bucket: Bucket) -> str:
        """The UTC start (Unix ms) of the bucket holding a Unix-ms time; weeks start Monday."""
        t = time_expr if self.postgres else f"CAST({time_expr} AS INTEGER)"
        if bucket in _FIXED_MS:
            size = _FIXED_MS[bucket]
            return f"(({t} / {size}) * {size})"
        if bucket == "week":
            day = f"({t} / 86400000)"
            # 1970-01-01 was a Thursday: (day + 3) % 7 counts days since Monday.
            return f"(({day} - ({day} + 3) % 7) * 86400000)"
        if self.postgres:
            month = f"date_trunc('month', to_timestamp({t} / 1000.0) AT TIME ZONE 'UTC')"
            return f"(CAST(EXTRACT(EPOCH FROM {month}) AS BIGINT) * 1000)"
        return (
            f"(CAST(strftime('%s', {t} / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000)"
        )


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


def for_store(dialect_name: str) -> Dialect:
    """The dialect of a store (`Store.dialect`: "sqlite" or "postgresql")."""
    return POSTGRES if dialect_name == "postgresql" else SQLITE


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
