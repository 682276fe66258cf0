"""The few SQL fragments metric queries write differently on SQLite and PostgreSQL.

JSON field access (SQLite `json_extract` vs PostgreSQL `->>` with casts), month
buckets, list membership and unnesting. Everything else the metric SQL uses (window
functions, integer arithmetic for hour/day/week buckets, GROUP BY positions) is the
same on both. Statements are written with `?` placeholders; the store translates them.

Only catalogue identifiers reach these functions (checked against `IDENTIFIER` again
here, as a second line of defence); values are always bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intercom_sync.metrics.catalogue import IDENTIFIER, Field
from intercom_sync.metrics.durations import Bucket

ALIAS = "s"
_FIXED_MS = {"hour": 3_600_000, "day": 86_400_000}


def _ident(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


@dataclass(frozen=True)
class MetricDialect:
    name: str

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    # -- values ----------------------------------------------------------------------------
    def field(self, f: Field, alias: str = ALIAS) -> str:
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

    def number(self, expr: str, f: Field) -> str:
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

    # -- predicates --------------------------------------------------------------------------
    def list_contains(self, f: Field) -> str:
        """True when the list field holds the (bound) element."""
        key = _ident(f.name)
        if self.postgres:
            element = "jsonb_build_array(CAST(? AS TEXT))"
            return f"COALESCE({ALIAS}.attributes->'{key}' @> {element}, FALSE)"
        elements = f"json_each({ALIAS}.attributes, '$.{key}') AS je"
        return f"EXISTS (SELECT 1 FROM {elements} WHERE je.value = ?)"  # noqa: S608

    def text_contains(self, expr: str) -> str:
        """Case-sensitive substring test against a bound needle (no LIKE wildcards)."""
        return f"strpos({expr}, ?) > 0" if self.postgres else f"instr({expr}, ?) > 0"

    # -- grouping ----------------------------------------------------------------------------
    def unnest(self, f: Field) -> tuple[str, str]:
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


SQLITE = MetricDialect("sqlite")
POSTGRES = MetricDialect("postgresql")


def for_store(dialect_name: str) -> MetricDialect:
    return POSTGRES if dialect_name == "postgresql" else SQLITE
