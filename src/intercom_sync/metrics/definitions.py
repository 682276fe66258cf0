"""Validated metric, widget and dashboard definitions: what evaluation runs on.

Nothing here is built from user input directly; `validate.py` produces these objects
only after every name has been checked against the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.durations import Bucket

Fn = Literal[
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "latest",
    "first",
    "p50",
    "p90",
    "p95",
    "p99",
]
Op = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists"]
Kind = Literal["stat", "timeseries", "distribution", "table"]
Better = Literal["higher", "lower"]

FNS: tuple[Fn, ...] = (
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "latest",
    "first",
    "p50",
    "p90",
    "p95",
    "p99",
)
PERCENTILES: dict[str, int] = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}
# Fns whose value over an empty set is 0 rather than "no value".
ADDITIVE_FNS: frozenset[str] = frozenset({"count", "count_distinct", "sum"})
OPS: tuple[Op, ...] = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists")
KINDS: tuple[Kind, ...] = ("stat", "timeseries", "distribution", "table")
BETTER: tuple[Better, ...] = ("higher", "lower")


@dataclass(frozen=True)
class Condition:
    """`field op value`; the value is already coerced to the field's type."""

    field: Field
    op: Op
    value: Any


@dataclass(frozen=True)
class AnyOf:
    """An OR group: true when any of its AND-groups is true."""

    groups: tuple[tuple[Condition | AnyOf, ...], ...]


Filter = tuple[Condition | AnyOf, ...]


@dataclass(frozen=True)
class Metric:
    """One validated query over one shape (or a registered derived computation)."""

    connector: str
    shape: str
    selected: str
    fn: Fn = "count"
    field: Field | None = None
    filter: Filter = ()
    dimension: Field | None = None
    bucket: Bucket | None = None
    time_field: Field | None = None
    window_ms: int | None = None

    @property
    def derived(self) -> bool:
        return self.shape == "derived"


@dataclass(frozen=True)
class Widget:
    """One card. `better` says which way a change is good (colours the deltas); `axis`
    titles a chart's value axis (`unit` = "min" values are durations in minutes)."""

    id: str
    kind: Kind
    title: str
    metrics: tuple[tuple[str, Metric], ...]
    denominator: Metric | None = None
    compare: bool = False
    limit: int = 20
    unit: str = ""
    sort: Literal["value", "label"] = "value"
    description: str = ""
    better: Better | None = None
    axis: str = ""

    @property
    def metric(self) -> Metric:
        return self.metrics[0][1]


@dataclass(frozen=True)
class Dashboard:
    id: str
    title: str
    widgets: dict[str, Widget]
