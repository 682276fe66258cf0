"""Turn user definitions (plain mappings) into validated `Metric`/`Widget` objects.

Everything is checked up front, before any SQL exists: an unknown connector, shape,
entity type, field, fn or op is a `DefinitionError` naming the dashboard, the widget and
the bad value, so a typo in a config never reaches the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import intercom_sync.metrics.catalogue as catalogue
from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.definitions import (
    BETTER,
    FNS,
    KINDS,
    OPS,
    AnyOf,
    Condition,
    Filter,
    Fn,
    Kind,
    Metric,
    Op,
    Widget,
)
from intercom_sync.metrics.derived import DERIVED
from intercom_sync.metrics.durations import BUCKETS, Bucket, parse_duration

KNOWN_CONNECTORS: tuple[str, ...] = ("intercom",)

_METRIC_KEYS = {
    "connector",
    "shape",
    "entity_type",
    "event_type",
    "name",
    "relation",
    "fn",
    "field",
    "filter",
    "group_by",
    "time_field",
    "window",
}
_ALIASES = {
    "entityType": "entity_type",
    "eventType": "event_type",
    "groupBy": "group_by",
    "timeField": "time_field",
}
_WIDGET_KEYS = {
    "kind",
    "title",
    "metric",
    "metrics",
    "denominator",
    "compare",
    "limit",
    "unit",
    "sort",
    "description",
    "better",
    "axis",
}
_NUMERIC = ("number", "time", "bool")


class DefinitionError(ValueError):
    """A dashboard definition that cannot be evaluated; says where and what."""

    def __init__(self, dashboard: str, widget: str | None, detail: str) -> None:
        self.dashboard = dashboard
        self.widget = widget
        self.detail = detail
        where = f"dashboard {dashboard!r}" + (f", widget {widget!r}" if widget else "")
        super().__init__(f"{where}: {detail}")


@dataclass(frozen=True)
class Where:
    """Where a definition sits, so every error can say it."""

    dashboard: str
    widget: str | None = None

    def error(self, detail: str) -> DefinitionError:
        return DefinitionError(self.dashboard, self.widget, detail)


def _choices(values: Sequence[str]) -> str:
    return ", ".join(values)


def normalise_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the reference's camelCase spellings (`entityType`) as well as snake_case."""
    return {_ALIASES.get(k, k): v for k, v in raw.items()}


# -- widgets ---------------------------------------------------------------------------------


def compile_widget(
    widget_id: str, raw: Mapping[str, Any], where: Where, connectors: Mapping[str, str]
) -> Widget:
    """Validate one widget; `connectors` maps connector name → connector id."""
    _check_identifier(widget_id, "widget id", where)
    unknown = sorted(set(raw) - _WIDGET_KEYS)
    if unknown:
        raise where.error(
            f"unknown widget key {unknown[0]!r} (known: {_choices(sorted(_WIDGET_KEYS))})"
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise where.error(f"unknown kind {kind!r} (known: {_choices(KINDS)})")
    metrics = _widget_metrics(raw, where, connectors)
    denominator = raw.get("denominator")
    widget = Widget(
        id=widget_id,
        kind=cast(Kind, kind),
        title=str(raw.get("title") or widget_id.replace("_", " ").capitalize()),
        metrics=metrics,
        denominator=None if denominator is None else compile_metric(denominator, where, connectors),
        compare=_bool_option(raw, "compare", where),
        limit=_limit(raw, where),
        unit=str(raw.get("unit", "")),
        sort=_sort(raw, where),
        description=str(raw.get("description", "")),
        better=_better(raw, where),
        axis=str(raw.get("axis", "")),
    )
    _check_widget_shape(widget, where)
    return widget


def _widget_metrics(
    raw: Mapping[str, Any], where: Where, connectors: Mapping[str, str]
) -> tuple[tuple[str, Metric], ...]:
    if ("metric" in raw) == ("metrics" in raw):
        raise where.error("give exactly one of 'metric' or 'metrics'")
    if "metric" in raw:
        return (("value", compile_metric(raw["metric"], where, connectors)),)
    named = raw["metrics"]
    if not isinstance(named, Mapping) or not named:
        raise where.error("'metrics' must map column labels to metric definitions")
    return tuple(
        (str(label), compile_metric(spec, where, connectors)) for label, spec in named.items()
    )


def _bool_option(raw: Mapping[str, Any], key: str, where: Where) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise where.error(f"{key!r} must be true or false, got {value!r}")
    return value


def _limit(raw: Mapping[str, Any], where: Where) -> int:
    value = raw.get("limit", 20)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise where.error(f"'limit' must be an integer from 1 to 1000, got {value!r}")
    return value


def _sort(raw: Mapping[str, Any], where: Where) -> Any:
    value = raw.get("sort", "value")
    if value not in ("value", "label"):
        raise where.error(f"'sort' must be 'value' or 'label', got {value!r}")
    return value


def _better(raw: Mapping[str, Any], where: Where) -> Any:
    value = raw.get("better")
    if value is not None and value not in BETTER:
        raise where.error(f"'better' must be {_choices(BETTER)}, got {value!r}")
    return value


def _check_widget_shape(widget: Widget, where: Where) -> None:
    """Each kind needs a particular grouping; all of a widget's metrics must agree on it."""
    metrics = [m for _, m in widget.metrics]
    if widget.denominator is not None:
        metrics.append(widget.denominator)
    groupings = {(m.bucket, m.dimension.name if m.dimension else None) for m in metrics}
    if len(groupings) > 1:
        raise where.error("every metric of a widget must use the same group_by")
    (bucket, dimension), derived = groupings.pop(), [m for m in metrics if m.derived]
    for metric in derived:
        spec = DERIVED[metric.selected]
        if widget.kind not in spec.kinds:
            raise where.error(
                f"derived metric {metric.selected!r} draws as {_choices(spec.kinds)}, "
                f"not {widget.kind!r}"
            )
    if derived:
        return
    if widget.kind == "stat" and (bucket or dimension):
        raise where.error("a stat widget shows one value: remove group_by")
    if widget.kind == "timeseries" and not bucket:
        raise where.error(
            f"a timeseries widget needs group_by with a time bucket ({_choices(BUCKETS)})"
        )
    if widget.kind == "timeseries" and dimension and len(widget.metrics) > 1:
        raise where.error("a timeseries grouped by a dimension takes a single metric")
    if widget.kind == "distribution" and (not dimension or bucket or len(widget.metrics) > 1):
        raise where.error("a distribution widget needs one metric grouped by one dimension")
    if widget.kind == "table" and not (bucket or dimension):
        raise where.error("a table widget needs group_by (a dimension or a time bucket)")
    if widget.compare and any(m.window_ms is None for m in metrics):
        raise where.error("'compare' needs a window on every metric (e.g. window = '7d')")


# -- metrics ---------------------------------------------------------------------------------


def compile_metric(raw: Any, where: Where, connectors: Mapping[str, str]) -> Metric:
    if hasattr(raw, "definition"):  # a MetricSpec from define_metric
        raw = raw.definition
    if not isinstance(raw, Mapping):
        raise where.error(f"a metric must be a table of settings, got {type(raw).__name__}")
    spec = normalise_keys(raw)
    unknown = sorted(set(spec) - _METRIC_KEYS)
    if unknown:
        raise where.error(
            f"unknown metric key {unknown[0]!r} (known: {_choices(sorted(_METRIC_KEYS))})"
        )
    connector = _connector(spec.get("connector"), where, connectors)
    shape = spec.get("shape", "entity")
    if shape not in catalogue.SHAPE_NAMES:
        raise where.error(f"unknown shape {shape!r} (known: {_choices(catalogue.SHAPE_NAMES)})")
    if shape == "derived":
        return _compile_derived(spec, connector, where)
    selected = _selected(shape, spec, where)
    fields = catalogue.fields_of(shape, selected)
    fn = _fn(spec.get("fn", "count"), where)
    time_field = _time_field(shape, selected, spec.get("time_field"), fields, where)
    bucket, dimension = _group_by(spec.get("group_by"), fields, time_field, where, selected)
    return Metric(
        connector=connector,
        shape=shape,
        selected=selected,
        fn=fn,
        field=_fn_field(fn, spec.get("field"), fields, time_field, where, selected),
        filter=compile_filter(spec.get("filter", []), fields, where, selected),
        dimension=dimension,
        bucket=bucket,
        time_field=time_field,
        window_ms=_window(spec.get("window"), time_field, where),
    )


def _compile_derived(spec: Mapping[str, Any], connector: str, where: Where) -> Metric:
    name = spec.get("name")
    if name not in DERIVED:
        raise where.error(f"unknown derived metric {name!r} (known: {_choices(sorted(DERIVED))})")
    allowed = {"connector", "shape", "name", "group_by", "window"}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise where.error(f"derived metric {name!r} takes no {extra[0]!r}")
    group_by = spec.get("group_by")
    bucket: Bucket | None = None
    if group_by is not None:
        if group_by not in BUCKETS:
            raise where.error(
                f"derived metric {name!r}: group_by must be one of {_choices(BUCKETS)}"
            )
        bucket = cast(Bucket, group_by)
    window = spec.get("window")
    window_ms = None if window is None else _duration_ms(window, where)
    return Metric(
        connector=connector, shape="derived", selected=str(name), bucket=bucket, window_ms=window_ms
    )


def _connector(value: Any, where: Where, connectors: Mapping[str, str]) -> str:
    """Resolve the metric's connector (an object, a mapping or a name) to its name."""
    if value is None:
        if len(connectors) == 1:
            return next(iter(connectors))
        raise where.error("metric has no 'connector' and the config has several")
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if isinstance(value, Mapping):
        name = value.get("name")
    if not isinstance(name, str) or name not in connectors:
        raise where.error(
            f"unknown connector {name!r} (configured: {_choices(sorted(connectors))})"
        )
    if connectors[name] not in KNOWN_CONNECTORS:
        raise where.error(
            f"unknown connector {connectors[name]!r} (known: {_choices(KNOWN_CONNECTORS)})"
        )
    return str(name)


def _selected(shape: str, spec: Mapping[str, Any], where: Where) -> str:
    key = catalogue.SHAPES[shape].selector
    for other in ("entity_type", "event_type", "name", "relation"):
        if other != key and other in spec:
            raise where.error(f"shape {shape!r} is selected by {key!r}, not {other!r}")
    value = spec.get(key)
    allowed = catalogue.selector_values(shape)
    if value is None:
        raise where.error(f"shape {shape!r} needs {key!r}")
    if allowed is not None and value not in allowed:
        raise where.error(f"unknown {key.replace('_', ' ')} {value!r} (known: {_choices(allowed)})")
    _check_identifier(value, key, where)
    return str(value)


def _fn(value: Any, where: Where) -> Fn:
    if value not in FNS:
        raise where.error(f"unknown fn {value!r} (known: {_choices(FNS)})")
    return cast(Fn, value)


def _field(name: Any, fields: Mapping[str, Field], where: Where, selected: str) -> Field:
    if name not in fields:
        raise where.error(
            f"unknown field {name!r} for {selected} (known: {_choices(sorted(fields))})"
        )
    return fields[name]


def _fn_field(
    fn: Fn,
    name: Any,
    fields: Mapping[str, Field],
    time_field: Field | None,
    where: Where,
    selected: str,
) -> Field | None:
    if name is None:
        if fn == "count":
            return None
        raise where.error(f"fn {fn!r} needs a 'field'")
    found = _field(name, fields, where, selected)
    if found.type == "list" and fn != "count":
        raise where.error(f"fn {fn!r} cannot aggregate the list field {found.name!r}")
    if fn in ("sum", "avg", *_percentile_fns()) and found.type not in _NUMERIC:
        raise where.error(f"fn {fn!r} needs a numeric field; {found.name!r} is {found.type}")
    if fn in ("min", "max") and found.type == "bool":
        raise where.error(f"fn {fn!r} cannot order the bool field {found.name!r}")
    if fn in ("latest", "first") and time_field is None:
        raise where.error(f"fn {fn!r} needs a time to order by, and {selected} has none")
    return found


def _percentile_fns() -> tuple[str, ...]:
    return ("p50", "p90", "p95", "p99")


def _time_field(
    shape: str, selected: str, name: Any, fields: Mapping[str, Field], where: Where
) -> Field | None:
    if name is None:
        default = catalogue.default_time_field(shape, selected)
        return None if default is None else fields[default]
    found = _field(name, fields, where, selected)
    if found.type != "time":
        raise where.error(f"time_field {found.name!r} is {found.type}, not a time")
    return found


def _group_by(
    value: Any, fields: Mapping[str, Field], time_field: Field | None, where: Where, selected: str
) -> tuple[Bucket | None, Field | None]:
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > 2:
        raise where.error(f"group_by takes a field, a time bucket, or both; got {value!r}")
    bucket: Bucket | None = None
    dimension: Field | None = None
    for item in items:
        if item in BUCKETS:
            if bucket or time_field is None:
                raise where.error(
                    f"cannot bucket by {item!r} here (one bucket, needs a time field)"
                )
            bucket = cast(Bucket, item)
        else:
            if dimension is not None:
                raise where.error("group_by takes at most one dimension")
            dimension = _field(item, fields, where, selected)
            if dimension.type == "time":
                raise where.error(f"group by a time field with a bucket ({_choices(BUCKETS)})")
    return bucket, dimension


def _window(value: Any, time_field: Field | None, where: Where) -> int | None:
    if value is None:
        return None
    if time_field is None:
        raise where.error("a window needs a time field, and this shape has none")
    return _duration_ms(value, where)


def _duration_ms(value: Any, where: Where) -> int:
    try:
        return int(parse_duration(value) * 1000)
    except ValueError as exc:
        raise where.error(f"bad window {value!r}: {exc}") from None


def _check_identifier(value: Any, what: str, where: Where) -> None:
    if not isinstance(value, str) or not catalogue.IDENTIFIER.match(value):
        raise where.error(f"bad {what} {value!r} (letters, digits and _ only)")


# -- filters ---------------------------------------------------------------------------------


def compile_filter(raw: Any, fields: Mapping[str, Field], where: Where, selected: str) -> Filter:
    """A list of conditions (all must hold); `{"or": [...]}` items hold when any member does.

    A member of an OR group is a condition or a list of conditions (an AND-group).
    """
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise where.error(f"'filter' must be a list of conditions, got {raw!r}")
    return tuple(_filter_item(item, fields, where, selected) for item in raw)


def _filter_item(
    item: Any, fields: Mapping[str, Field], where: Where, selected: str
) -> Condition | AnyOf:
    if not isinstance(item, Mapping):
        raise where.error(f"a filter condition must be a table, got {item!r}")
    if "or" in item:
        members = item["or"]
        if set(item) != {"or"} or not isinstance(members, list) or not members:
            raise where.error("an 'or' group must be {or = [condition or [conditions], …]}")
        return AnyOf(tuple(compile_filter(m, fields, where, selected) for m in members))
    return _condition(item, fields, where, selected)


def _condition(
    item: Mapping[str, Any], fields: Mapping[str, Field], where: Where, selected: str
) -> Condition:
    extra = sorted(set(item) - {"field", "op", "value"})
    if extra:
        raise where.error(f"unknown filter key {extra[0]!r} (use field, op, value)")
    found = _field(item.get("field"), fields, where, selected)
    op = item.get("op", "eq")
    if op not in OPS:
        raise where.error(f"unknown op {op!r} (known: {_choices(OPS)})")
    op = cast(Op, op)
    value = coerce_value(found, op, item.get("value", True if op == "exists" else None), where)
    return Condition(found, op, value)


def coerce_value(found: Field, op: Op, value: Any, where: Where) -> Any:
    """Check an operand against the field's type and convert it to what SQL compares."""
    label = f"filter on {found.name!r} ({found.type})"
    if op == "exists":
        if not isinstance(value, bool):
            raise where.error(f"{label}: 'exists' takes true or false, got {value!r}")
        return value
    if found.type == "list" and op != "contains":
        raise where.error(f"{label}: a list field takes 'contains' or 'exists', not {op!r}")
    if op in ("in", "nin"):
        if not isinstance(value, list):
            raise where.error(f"{label}: {op!r} takes a list of values, got {value!r}")
        return tuple(_scalar(found, v, label, where) for v in value)
    if value is None:
        if op in ("eq", "neq"):
            return None
        raise where.error(f"{label}: {op!r} needs a value")
    if op == "contains":
        if found.type not in ("text", "list"):
            raise where.error(f"{label}: 'contains' needs a text or list field")
        return _text(value, label, where)
    if op in ("gt", "gte", "lt", "lte") and found.type == "bool":
        raise where.error(f"{label}: {op!r} cannot order true/false")
    return _scalar(found, value, label, where)


def _scalar(found: Field, value: Any, label: str, where: Where) -> Any:
    if value is None:
        raise where.error(f"{label}: a list of values cannot hold null")
    if found.type == "bool":
        if not isinstance(value, bool):
            raise where.error(f"{label}: expected true or false, got {value!r}")
        return value
    if found.type in ("text", "list"):
        return _text(value, label, where)
    if found.type == "time" and isinstance(value, str | datetime | date):
        return _time_ms(value, label, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"{label}: expected a number, got {value!r}")
    return value


def _text(value: Any, label: str, where: Where) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise where.error(f"{label}: expected text, got {value!r}")
    return str(value)


def _time_ms(value: str | datetime | date, label: str, where: Where) -> int:
    """Times are compared in Unix ms; ISO strings and TOML datetimes are accepted too."""
    try:
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    except ValueError:
        raise where.error(f"{label}: not a time: {value!r}") from None
