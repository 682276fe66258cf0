"""Evaluate a validated `Metric` as one parameterised SQL statement over the store.

Identifiers come only from the catalogue (via `Metric` fields); every value — the
connector, the entity type, filter operands, window bounds — is a bound parameter. A
view's filters (team, teammate, channel, tag) and the exclusion of deleted conversations
are added by `scope.row_condition`.

Aggregates (count … max) are plain GROUP BY queries. `latest`/`first` and the
percentiles rank rows with window functions (portable to SQLite and PostgreSQL) and
return only the one or two rows per group that matter; percentiles interpolate
linearly between the two closest ranks, like PostgreSQL's `percentile_cont` and
numpy's default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from intercom_sync.metrics.catalogue import SHAPES
from intercom_sync.metrics.definitions import PERCENTILES, AnyOf, Condition, Filter, Metric
from intercom_sync.metrics.durations import Span
from intercom_sync.metrics.scope import row_condition
from intercom_sync.metrics.view import Filters
from intercom_sync.store.base import Store
from intercom_sync.store.sql import ALIAS, Dialect, for_store

GroupKey = tuple[int | None, Any]  # (bucket start ms or None, dimension value or None)

# A stable order among rows with the same time, so latest/first are deterministic.
_TIEBREAK = {
    "entity": "entity_id",
    "event": "event_id",
    "metric": "entity_id",
    "distribution": "entity_id",
    "rollup": "dimensions",
}
_AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max"}
_TS = next(f for f in SHAPES["metric"].columns if f.name == "ts")


@dataclass
class _Source:
    """FROM … WHERE … of a metric, with the group expressions and their parameters."""

    from_sql: str
    where_sql: str
    params: list[Any]
    groups: list[str]


def evaluate(
    store: Store, metric: Metric, span: Span | None, filters: Filters | None = None
) -> dict[GroupKey, Any]:
    """The metric's value per group; an ungrouped metric has the single key (None, None)."""
    return evaluate_many(store, [(metric, span)], filters)[0]


def evaluate_many(
    store: Store,
    requests: Sequence[tuple[Metric, Span | None]],
    filters: Filters | None = None,
) -> list[dict[GroupKey, Any]]:
    """Several metrics at once (all under the same filters), reading shared rows once.

    Plain aggregates over the same rows (same shape, filter, grouping and span) become
    one SELECT with several aggregate columns; percentiles of the same field over the
    same rows become one ranking that returns the rows every percentile needs.
    """
    dialect = for_store(store.dialect)
    batches: dict[tuple[Any, ...], list[int]] = {}
    for i, (metric, span) in enumerate(requests):
        batches.setdefault(_batch_key(i, metric, span), []).append(i)
    results: list[dict[GroupKey, Any]] = [{} for _ in requests]
    for key, members in batches.items():
        metrics = [requests[i][0] for i in members]
        source = _source(metrics[0], dialect, requests[members[0]][1], filters or Filters())
        if key[0] == "aggregate":
            found = _run_aggregates(store, metrics, dialect, source)
        elif key[0] == "percentile":
            found = _run_percentiles(store, metrics, dialect, source)
        else:
            rows = store.query(*_edge_row_sql(metrics[0], dialect, source))
            found = [{_key(metrics[0], row): _number(metrics[0], row[-1]) for row in rows}]
        for i, values in zip(members, found, strict=True):
            results[i] = values
    return results


def _batch_key(index: int, metric: Metric, span: Span | None) -> tuple[Any, ...]:
    rows = (
        metric.connector,
        metric.shape,
        metric.selected,
        metric.filter,
        metric.dimension,
        metric.bucket,
        metric.time_field,
        span,
    )
    if metric.fn in _AGGREGATES:
        return ("aggregate", *rows)
    if metric.fn in PERCENTILES:
        return ("percentile", metric.field, *rows)
    return ("single", index)


def _run_aggregates(
    store: Store, metrics: list[Metric], d: Dialect, src: _Source
) -> list[dict[GroupKey, Any]]:
    rows = store.query(*_aggregate_sql(metrics, d, src))
    width = len(src.groups)
    out: list[dict[GroupKey, Any]] = [{} for _ in metrics]
    for row in rows:
        key = _key(metrics[0], row)
        for j, metric in enumerate(metrics):
            out[j][key] = _number(metric, row[width + j])
    return out


def _run_percentiles(
    store: Store, metrics: list[Metric], d: Dialect, src: _Source
) -> list[dict[GroupKey, Any]]:
    ks = [PERCENTILES[m.fn] for m in metrics]
    rows = store.query(*_percentile_sql(metrics[0], ks, d, src))
    return [_interpolate(metrics[0], rows, k) for k in ks]


# -- FROM / WHERE ----------------------------------------------------------------------------


def _source(metric: Metric, d: Dialect, span: Span | None, filters: Filters) -> _Source:
    shape = SHAPES[metric.shape]
    from_sql = f"{shape.table} {ALIAS}"
    conds = [f"{ALIAS}.connector = ?", f"{ALIAS}.{shape.selector_column} = ?"]
    params: list[Any] = [metric.connector, metric.selected]
    if shape.live_filter:
        conds.append(f"{ALIAS}.{shape.live_filter}")
    windowed = span is not None and metric.time_field is not None
    if span is not None and metric.time_field is not None:
        t = d.field(metric.time_field)
        conds.append(f"{t} >= ? AND {t} < ?")
        params += [span.start_ms, span.end_ms]
    filter_sql, filter_params = filter_clause(metric.filter, d)
    if filter_sql:
        conds.append(filter_sql)
        params += filter_params
    # Per-conversation metric rows sit at their conversation's creation: the owners in
    # scope are those created in the span too, which keeps the id list short.
    at_creation = windowed and metric.shape == "metric" and metric.time_field == _TS
    scope_sql, scope_params = row_condition(
        metric.shape,
        metric.selected,
        metric.connector,
        filters,
        d,
        ALIAS,
        span if at_creation else None,
    )
    if scope_sql:
        conds.append(scope_sql)
        params += scope_params
    groups: list[str] = []
    if metric.bucket is not None and metric.time_field is not None:
        groups.append(d.bucket(d.field(metric.time_field), metric.bucket))
    if metric.dimension is not None:
        if metric.dimension.type == "list":
            join, element = d.unnest(metric.dimension)
            from_sql += join
            groups.append(element)
        else:
            groups.append(d.field(metric.dimension))
    return _Source(from_sql, " AND ".join(conds), params, groups)


def filter_clause(items: Filter, d: Dialect) -> tuple[str, list[Any]]:
    """All items ANDed; an `AnyOf` ORs its AND-groups."""
    parts: list[str] = []
    params: list[Any] = []
    for item in items:
        sql, item_params = _any_of(item, d) if isinstance(item, AnyOf) else _condition(item, d)
        parts.append(sql)
        params += item_params
    return " AND ".join(parts), params


def _any_of(item: AnyOf, d: Dialect) -> tuple[str, list[Any]]:
    groups: list[str] = []
    params: list[Any] = []
    for group in item.groups:
        sql, group_params = filter_clause(group, d)
        groups.append(f"({sql or '1 = 1'})")
        params += group_params
    return f"({' OR '.join(groups)})", params


def _condition(c: Condition, d: Dialect) -> tuple[str, list[Any]]:
    x = d.field(c.field)
    value = c.value
    if c.op == "exists":
        return f"{x} IS {'NOT ' if value else ''}NULL", []
    if c.op in ("eq", "neq") and value is None:
        return f"{x} IS {'NOT ' if c.op == 'neq' else ''}NULL", []
    if c.op == "contains":
        sql = d.list_contains(c.field) if c.field.type == "list" else d.text_contains(x)
        return sql, [value]
    if c.op in ("in", "nin"):
        return _membership(x, c.op, [d.param(v) for v in value])
    if c.op == "neq":
        # "not equal" also matches rows where the field is missing.
        return f"({x} IS NULL OR {x} <> ?)", [d.param(value)]
    symbol = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[c.op]
    return f"{x} {symbol} ?", [d.param(value)]


def _membership(x: str, op: str, values: list[Any]) -> tuple[str, list[Any]]:
    if not values:
        return ("1 = 0" if op == "in" else "1 = 1"), []
    marks = ", ".join("?" * len(values))
    if op == "in":
        return f"{x} IN ({marks})", values
    return f"({x} IS NULL OR {x} NOT IN ({marks}))", values


# -- statements ------------------------------------------------------------------------------


def _aggregate_sql(metrics: list[Metric], d: Dialect, src: _Source) -> tuple[str, list[Any]]:
    select = [*src.groups, *(_aggregate(m, d) for m in metrics)]
    sql = f"SELECT {', '.join(select)} FROM {src.from_sql} WHERE {src.where_sql}"  # noqa: S608
    if src.groups:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(src.groups)))
    return sql, src.params


def _aggregate(metric: Metric, d: Dialect) -> str:
    value = "*" if metric.field is None else d.field(metric.field)
    return {
        "count": f"COUNT({value})",
        "count_distinct": f"COUNT(DISTINCT {value})",
        "sum": f"SUM({_numeric(metric, d, value)})",
        "avg": f"AVG({_numeric(metric, d, value)})",
        "min": f"MIN({value})",
        "max": f"MAX({value})",
    }[metric.fn]


def _numeric(metric: Metric, d: Dialect, value: str) -> str:
    return value if metric.field is None else d.number(value, metric.field)


def _ranked(src: _Source, value: str, order: str, extra: str = "") -> tuple[str, str]:
    """Rows of the source numbered within their group, ordered by `order`."""
    names = [f"g{i}" for i in range(len(src.groups))]
    inner_cols = [f"{expr} AS {name}" for expr, name in zip(src.groups, names, strict=True)]
    inner_cols.append(f"{value} AS v")
    if extra:
        inner_cols.append(extra)
    partition = f"PARTITION BY {', '.join(names)} " if names else ""
    base = f"SELECT {', '.join(inner_cols)} FROM {src.from_sql} WHERE {src.where_sql}"  # noqa: S608
    ranked = (
        f"SELECT {', '.join([*names, 'v'])}, "  # noqa: S608
        f"ROW_NUMBER() OVER ({partition}ORDER BY {order}) AS rn, "
        f"COUNT(*) OVER ({partition.strip()}) AS n FROM ({base}) b"
    )
    return ranked, ", ".join([*names, "v"])


def _percentile_sql(
    metric: Metric, ks: list[int], d: Dialect, src: _Source
) -> tuple[str, list[Any]]:
    """The two rows around rank (n−1)·k/100 of each group, for every k asked for."""
    assert metric.field is not None
    value = d.number(d.field(metric.field), metric.field)
    src.where_sql += f" AND {value} IS NOT NULL"
    ranked, cols = _ranked(src, value, "v")
    # k comes from a closed set of integers: safe to write into the statement.
    lows = [f"((n - 1) * {int(k)}) / 100" for k in sorted(set(ks))]
    wanted = " OR ".join(f"(rn >= {low} + 1 AND rn <= {low} + 2)" for low in lows)
    sql = f"SELECT {cols}, rn, n FROM ({ranked}) q WHERE {wanted}"  # noqa: S608
    return sql, src.params


def _edge_row_sql(metric: Metric, d: Dialect, src: _Source) -> tuple[str, list[Any]]:
    """latest / first: the field's value on the newest / oldest row of each group."""
    assert metric.field is not None and metric.time_field is not None
    value = d.field(metric.field)
    t = d.field(metric.time_field)
    src.where_sql += f" AND {value} IS NOT NULL AND {t} IS NOT NULL"
    direction = "DESC" if metric.fn == "latest" else "ASC"
    tiebreak = f"{ALIAS}.{_TIEBREAK[metric.shape]}"
    ranked, cols = _ranked(
        src, value, f"t {direction}, k {direction}", extra=f"{t} AS t, {tiebreak} AS k"
    )
    return f"SELECT {cols} FROM ({ranked}) q WHERE rn = 1", src.params  # noqa: S608


# -- results ---------------------------------------------------------------------------------


def _key(metric: Metric, row: tuple[Any, ...]) -> GroupKey:
    i = 0
    bucket: int | None = None
    dimension: Any = None
    if metric.bucket is not None:
        bucket = None if row[0] is None else int(row[0])
        i = 1
    if metric.dimension is not None:
        dimension = _plain(row[i])
    return bucket, dimension


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _number(metric: Metric, value: Any) -> Any:
    """Counts are ints, sums and means floats (a sum of nothing is 0); others keep their type."""
    value = _plain(value)
    if metric.fn in ("count", "count_distinct"):
        return int(value or 0)
    if metric.fn == "sum":
        return float(value or 0)
    if value is None:
        return None
    if metric.fn == "avg":
        return float(value)
    if metric.field is not None and metric.field.type == "bool" and isinstance(value, int):
        return bool(value)
    return value


def _interpolate(metric: Metric, rows: list[tuple[Any, ...]], k: int) -> dict[GroupKey, Any]:
    """Linear interpolation between ranks ⌊(n−1)·k/100⌋+1 and the next one."""
    found: dict[GroupKey, dict[int, float]] = {}
    sizes: dict[GroupKey, int] = {}
    for row in rows:
        key = _key(metric, row)
        value, rank, n = row[-3], int(row[-2]), int(row[-1])
        found.setdefault(key, {})[rank] = float(_plain(value))
        sizes[key] = n
    out: dict[GroupKey, Any] = {}
    for key, ranks in found.items():
        n = sizes[key]
        low, rest = divmod((n - 1) * k, 100)
        lo_value = ranks[low + 1]
        hi_value = ranks.get(low + 2, lo_value)
        out[key] = lo_value + (hi_value - lo_value) * rest / 100
    return out
