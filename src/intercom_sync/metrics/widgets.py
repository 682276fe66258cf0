"""Evaluate a widget into the JSON its chart draws: stat, timeseries, distribution, table.

Values come from `compute.evaluate_many`; this module only arranges them (buckets filled,
groups labelled and ranked, ratios and comparisons worked out) for one `View`: its range
replaces every windowed metric's window, its comparison decides the second period, its
filters reach every metric that can take them. Labels are plain text: escaping is the
page's job, which treats every string as text.

Every body also says what a reader needs to trust it: the view it was computed for, which
active filters it does not follow (`not_filtered_by`), which buckets are incomplete
(`partial`), and, when there is nothing to show, why (`empty`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from intercom_sync.metrics.compute import GroupKey, evaluate_many
from intercom_sync.metrics.definitions import ADDITIVE_FNS, Metric, Widget
from intercom_sync.metrics.derived import DERIVED
from intercom_sync.metrics.durations import (
    Span,
    bucket_range,
    bucket_start,
    chart_bucket,
    iso_ms,
    partial_buckets,
)
from intercom_sync.metrics.emptiness import nothing_to_show, only_zeros, why
from intercom_sync.metrics.names import entity_names
from intercom_sync.metrics.scope import not_filtered_by, owner_type
from intercom_sync.metrics.view import View
from intercom_sync.store.base import Store

NONE_LABEL = "(none)"


def evaluate_widget(store: Store, widget: Widget, view: View | int) -> dict[str, Any]:
    """The widget's data as JSON-able values, for `view` (or as of a Unix-ms moment)."""
    if isinstance(view, int):
        view = View(view)
    owners = owner_types(widget)
    head: dict[str, Any] = {
        "id": widget.id,
        "kind": widget.kind,
        "title": widget.title,
        "unit": widget.unit,
        "description": widget.description,
        "better": widget.better,
        "axis": widget.axis,
        "as_of": iso_ms(view.now_ms),
        "view": view.as_json(),
        "not_filtered_by": not_filtered_by(owners, view.filters),
    }
    if widget.metric.derived:
        body = DERIVED[widget.metric.selected].compute(store, widget.metric, view, widget.limit)
    else:
        body = {
            "stat": _stat,
            "timeseries": _timeseries,
            "distribution": _distribution,
            "table": _table,
        }[widget.kind](store, widget, view)
    blank = nothing_to_show(widget.kind, body)
    if "empty" not in body and (blank or only_zeros(widget.kind, body)):
        span = view.window(widget.metric.window_ms) or view.span
        reason = why(store, widget.metric.connector, owners, span, view, structural=not blank)
        if reason:
            body["empty"] = reason
    head["axis"] = widget.axis.replace("{bucket}", str(body.get("bucket") or "day"))
    return head | body


def owner_types(widget: Widget) -> list[str | None]:
    """The entity types the widget's figures are about (conversations, tickets …)."""
    out: list[str | None] = []
    for _, metric in widget.metrics:
        if metric.derived:
            out.append(DERIVED[metric.selected].owner)
        else:
            out.append(owner_type(metric.shape, metric.selected))
    return out


@dataclasses.dataclass
class _Evaluated:
    """Every metric's values for the current span and, when comparing, the earlier one."""

    current: list[dict[GroupKey, Any]]
    previous: list[dict[GroupKey, Any]] | None
    spans: list[Span | None]
    previous_spans: list[Span | None]


def _evaluate(store: Store, widget: Widget, view: View, metrics: list[Metric]) -> _Evaluated:
    """All of a widget's metrics (and its denominator) in one `evaluate_many`, each divided
    by the denominator when the widget has one."""
    spans = [view.window(m.window_ms) for m in metrics]
    earlier = [view.compared(s, widget.compare) for s in spans]
    comparing = any(s is not None for s in earlier)
    den = widget.denominator
    requests = list(zip(metrics, spans, strict=True))
    if den is not None:
        requests.append((den, view.window(den.window_ms)))
    if comparing:
        requests += list(zip(metrics, earlier, strict=True))
        if den is not None:
            requests.append((den, view.compared(view.window(den.window_ms), widget.compare)))
    found = evaluate_many(store, requests, view.filters)
    step = len(metrics) + (den is not None)
    current = _divided(found[:step], den is not None)
    previous = _divided(found[step:], den is not None) if comparing else None
    return _Evaluated(current, previous, spans, earlier)


def _divided(chunk: list[dict[GroupKey, Any]], has_denominator: bool) -> list[dict[GroupKey, Any]]:
    if not has_denominator:
        return chunk
    below = chunk[-1]
    return [{k: _ratio(v.get(k), below.get(k)) for k in set(v) | set(below)} for v in chunk[:-1]]


def _ratio(num: Any, den: Any) -> float | None:
    if not den:
        return None
    return float(num or 0) / float(den)


def _empty(widget: Widget, metric: Metric) -> Any:
    if widget.denominator is None and metric.fn in ADDITIVE_FNS:
        return 0
    return None


def _span_json(span: Span | None) -> dict[str, str] | None:
    return None if span is None else {"start": iso_ms(span.start_ms), "end": iso_ms(span.end_ms)}


def _units(widget: Widget) -> list[str]:
    """Each value's unit: the widget's, except for counts (a count of minutes is a count)."""
    return [
        "" if m.fn in ("count", "count_distinct") and widget.denominator is None else widget.unit
        for _, m in widget.metrics
    ]


# -- stat ------------------------------------------------------------------------------------


def _stat(store: Store, widget: Widget, view: View) -> dict[str, Any]:
    metrics = [m for _, m in widget.metrics]
    got = _evaluate(store, widget, view, metrics)
    out = []
    units = _units(widget)
    for i, (label, metric) in enumerate(widget.metrics):
        empty = _empty(widget, metric)
        value = got.current[i].get((None, None), empty)
        item: dict[str, Any] = {"label": label, "value": value, "unit": units[i]}
        if got.previous is not None and got.previous_spans[i] is not None:
            previous = got.previous[i].get((None, None), empty)
            item["previous"] = previous
            item["change"] = _change(value, previous)
            item["previous_window"] = _span_json(got.previous_spans[i])
        item["window"] = _span_json(got.spans[i])
        out.append(item)
    return {"values": out}


def _change(value: Any, previous: Any) -> dict[str, float | None] | None:
    if not isinstance(value, int | float) or not isinstance(previous, int | float):
        return None
    delta = float(value) - float(previous)
    return {"delta": delta, "ratio": None if previous == 0 else delta / float(previous)}


# -- timeseries ------------------------------------------------------------------------------


def _timeseries(store: Store, widget: Widget, view: View) -> dict[str, Any]:
    first = widget.metric
    assert first.bucket is not None
    span = view.window(first.window_ms)
    bucket = chart_bucket(first.bucket, span)
    metrics = [dataclasses.replace(m, bucket=bucket) for _, m in widget.metrics]
    current = _evaluate(store, widget, view, metrics).current
    starts = _bucket_starts(metrics[0], span, [k for v in current for k in v])
    series: list[dict[str, Any]] = []
    if first.dimension is None:
        for (label, _), values, metric in zip(widget.metrics, current, metrics, strict=True):
            empty = _empty(widget, metric)
            series.append({"name": label, "y": [values.get((b, None), empty) for b in starts]})
    else:
        values = current[0]
        labels = _labels(store, first, {k[1] for k in values})
        for dim in _top_dimensions(values, widget.limit):
            ys = [values.get((b, dim), _empty(widget, first)) for b in starts]
            series.append({"name": labels[dim], "key": dim, "y": ys})
    return {
        "bucket": bucket,
        "x": [iso_ms(b) for b in starts],
        "partial": partial_buckets(starts, bucket, span),
        "series": series,
        "window": _span_json(span),
    }


def _bucket_starts(metric: Metric, span: Span | None, keys: Iterable[GroupKey]) -> list[int]:
    assert metric.bucket is not None
    if span is not None:
        return bucket_range(span.start_ms, span.end_ms - 1, metric.bucket)
    seen = sorted({k[0] for k in keys if k[0] is not None})
    if not seen:
        return []
    return bucket_range(seen[0], bucket_start(seen[-1], metric.bucket), metric.bucket)


def _top_dimensions(values: dict[GroupKey, Any], limit: int) -> list[Any]:
    totals: dict[Any, float] = {}
    for (_, dim), value in values.items():
        totals[dim] = totals.get(dim, 0.0) + float(value or 0)
    return sorted(totals, key=lambda d: (-totals[d], str(d)))[:limit]


# -- distribution and table ------------------------------------------------------------------


def _distribution(store: Store, widget: Widget, view: View) -> dict[str, Any]:
    metric = widget.metric
    got = _evaluate(store, widget, view, [metric])
    values = {k[1]: v for k, v in got.current[0].items()}
    labels = _labels(store, metric, set(values))
    keys = _ordered(values, labels, widget)
    items = [{"key": k, "label": labels[k], "value": values[k]} for k in keys]
    return {
        "dimension": _dimension_name(metric),
        "items": items,
        "window": _span_json(got.spans[0]),
    }


def _table(store: Store, widget: Widget, view: View) -> dict[str, Any]:
    first = widget.metric
    got = _evaluate(store, widget, view, [m for _, m in widget.metrics])
    columns = [(label, got.current[i]) for i, (label, _) in enumerate(widget.metrics)]
    lead = columns[0][1]
    units = ["", *_units(widget)]
    window = _span_json(got.spans[0])
    if first.bucket is not None:
        starts = _bucket_starts(first, got.spans[0], lead)
        rows = [
            [iso_ms(b), *[vals.get((b, None), _empty(widget, first)) for _, vals in columns]]
            for b in reversed(starts)
        ][: widget.limit]
        return {"columns": ["bucket", *[c for c, _ in columns]], "rows": rows, "units": units}
    keys_seen = {k[1] for _, vals in columns for k in vals}
    labels = _labels(store, first, keys_seen)
    ordered = _ordered({k: lead.get((None, k)) for k in keys_seen}, labels, widget)
    rows = [
        [
            labels[k],
            *[
                vals.get((None, k), _empty(widget, m))
                for (_, vals), (_, m) in zip(columns, widget.metrics, strict=True)
            ],
        ]
        for k in ordered
    ]
    names = [_dimension_name(first), *[c for c, _ in columns]]
    return {"columns": names, "rows": rows, "units": units, "window": window}


def _ordered(values: dict[Any, Any], labels: dict[Any, str], widget: Widget) -> list[Any]:
    if widget.sort == "label":
        keys = sorted(values, key=lambda k: (k is None, _sortable(k), labels[k]))
    else:
        keys = sorted(values, key=lambda k: (-(float(values[k] or 0)), labels[k]))
    return keys[: widget.limit]


def _sortable(key: Any) -> tuple[int, float, str]:
    if isinstance(key, int | float) and not isinstance(key, bool):
        return (0, float(key), "")
    return (1, 0.0, str(key))


def _dimension_name(metric: Metric) -> str:
    """A column heading for the grouping: `team` for teamAssigneeId, `tag` for tags."""
    dim = metric.dimension
    if dim is None:
        return "bucket"
    if dim.ref:
        return dim.ref.removeprefix("intercom_")
    return "tag" if dim.name == "tags" else dim.name


# -- labels ----------------------------------------------------------------------------------


def _labels(store: Store, metric: Metric, keys: set[Any]) -> dict[Any, str]:
    """Human labels for group keys: names of referenced entities, yes/no, or the value."""
    ref = metric.dimension.ref if metric.dimension else None
    names = (
        entity_names(store, metric.connector, ref, [k for k in keys if k is not None])
        if ref
        else {}
    )
    out: dict[Any, str] = {}
    for key in keys:
        if key is None:
            out[key] = NONE_LABEL
        elif isinstance(key, bool) or (metric.dimension and metric.dimension.type == "bool"):
            out[key] = "yes" if key else "no"
        elif isinstance(key, float) and key.is_integer():
            out[key] = str(int(key))
        else:
            out[key] = names.get(str(key)) or str(key)
    return out
