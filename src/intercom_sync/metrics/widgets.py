"""Evaluate a widget into the JSON its chart draws: stat, timeseries, distribution, table.

Values come from `compute.evaluate`; this module only arranges them (buckets filled,
groups labelled and ranked, ratios and previous-period changes worked out). Labels are
plain text: escaping is the page's job, which treats every string as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from intercom_sync.metrics import derived
from intercom_sync.metrics.catalogue import Field
from intercom_sync.metrics.compute import GroupKey, Span, evaluate_many, metric_span
from intercom_sync.metrics.definitions import ADDITIVE_FNS, Metric, Widget
from intercom_sync.metrics.dialect import for_store
from intercom_sync.metrics.durations import bucket_range, bucket_start, iso_ms
from intercom_sync.store.base import Store

NONE_LABEL = "(none)"
_NAME = Field("name", "text")
_BATCH = 400


def evaluate_widget(store: Store, widget: Widget, now_ms: int) -> dict[str, Any]:
    """The widget's data as JSON-able values, computed as of `now_ms`."""
    head: dict[str, Any] = {
        "id": widget.id,
        "kind": widget.kind,
        "title": widget.title,
        "unit": widget.unit,
        "description": widget.description,
        "as_of": iso_ms(now_ms),
    }
    if widget.metric.derived:
        return head | derived.compute(store, widget.metric, now_ms, widget.limit)
    body = {
        "stat": _stat,
        "timeseries": _timeseries,
        "distribution": _distribution,
        "table": _table,
    }[widget.kind](store, widget, now_ms)
    return head | body


def _periods(
    store: Store, widget: Widget, now_ms: int, periods: int = 1
) -> list[list[dict[GroupKey, Any]]]:
    """Every metric's values for the current window (and earlier ones), evaluated together,
    each divided by the widget's denominator when it has one: [period][metric] → values."""
    requests: list[tuple[Metric, Span | None]] = []
    for back in range(periods):
        for _, metric in widget.metrics:
            requests.append((metric, metric_span(metric, now_ms, back)))
        if widget.denominator is not None:
            den = widget.denominator
            requests.append((den, metric_span(den, now_ms, back)))
    found = evaluate_many(store, requests)
    step = len(widget.metrics) + (widget.denominator is not None)
    out = []
    for back in range(periods):
        chunk = found[back * step : (back + 1) * step]
        values = chunk[: len(widget.metrics)]
        if widget.denominator is not None:
            below = chunk[-1]
            values = [
                {k: _ratio(v.get(k), below.get(k)) for k in set(v) | set(below)} for v in values
            ]
        out.append(values)
    return out


def _ratio(num: Any, den: Any) -> float | None:
    if not den:
        return None
    return float(num or 0) / float(den)


def _empty(widget: Widget, metric: Metric) -> Any:
    if widget.denominator is None and metric.fn in ADDITIVE_FNS:
        return 0
    return None


# -- stat ------------------------------------------------------------------------------------


def _stat(store: Store, widget: Widget, now_ms: int) -> dict[str, Any]:
    periods = _periods(store, widget, now_ms, 2 if widget.compare else 1)
    out = []
    for i, (label, metric) in enumerate(widget.metrics):
        empty = _empty(widget, metric)
        value = periods[0][i].get((None, None), empty)
        item: dict[str, Any] = {"label": label, "value": value}
        if widget.compare:
            previous = periods[1][i].get((None, None), empty)
            item["previous"] = previous
            item["change"] = _change(value, previous)
        window = metric_span(metric, now_ms)
        item["window"] = None if window is None else _span_json(window)
        out.append(item)
    return {"values": out}


def _change(value: Any, previous: Any) -> dict[str, float | None] | None:
    if not isinstance(value, int | float) or not isinstance(previous, int | float):
        return None
    delta = float(value) - float(previous)
    return {"delta": delta, "ratio": None if previous == 0 else delta / float(previous)}


def _span_json(span: Span) -> dict[str, str]:
    return {"start": iso_ms(span.start_ms), "end": iso_ms(span.end_ms)}


# -- timeseries ------------------------------------------------------------------------------


def _timeseries(store: Store, widget: Widget, now_ms: int) -> dict[str, Any]:
    first = widget.metric
    assert first.bucket is not None
    current = _periods(store, widget, now_ms)[0]
    per_metric = [(label, current[i]) for i, (label, _) in enumerate(widget.metrics)]
    starts = _bucket_starts(first, now_ms, [k for _, v in per_metric for k in v])
    series: list[dict[str, Any]] = []
    if first.dimension is None:
        for (label, values), (_, metric) in zip(per_metric, widget.metrics, strict=True):
            empty = _empty(widget, metric)
            series.append({"name": label, "y": [values.get((b, None), empty) for b in starts]})
    else:
        values = per_metric[0][1]
        labels = _labels(store, first, {k[1] for k in values})
        for dim in _top_dimensions(values, widget.limit):
            ys = [values.get((b, dim), _empty(widget, first)) for b in starts]
            series.append({"name": labels[dim], "key": dim, "y": ys})
    return {"bucket": first.bucket, "x": [iso_ms(b) for b in starts], "series": series}


def _bucket_starts(metric: Metric, now_ms: int, keys: Iterable[GroupKey]) -> list[int]:
    assert metric.bucket is not None
    span = metric_span(metric, now_ms)
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


def _distribution(store: Store, widget: Widget, now_ms: int) -> dict[str, Any]:
    metric = widget.metric
    values = {k[1]: v for k, v in _periods(store, widget, now_ms)[0][0].items()}
    labels = _labels(store, metric, set(values))
    keys = _ordered(values, labels, widget)
    items = [{"key": k, "label": labels[k], "value": values[k]} for k in keys]
    return {"dimension": _dimension_name(metric), "items": items}


def _table(store: Store, widget: Widget, now_ms: int) -> dict[str, Any]:
    first = widget.metric
    current = _periods(store, widget, now_ms)[0]
    columns = [(label, current[i]) for i, (label, _) in enumerate(widget.metrics)]
    lead = columns[0][1]
    if first.bucket is not None:
        starts = _bucket_starts(first, now_ms, lead)
        rows = [
            [iso_ms(b), *[vals.get((b, None), _empty(widget, first)) for _, vals in columns]]
            for b in reversed(starts)
        ][: widget.limit]
        return {"columns": ["bucket", *[c for c, _ in columns]], "rows": rows}
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
    return {"columns": [_dimension_name(first), *[c for c, _ in columns]], "rows": rows}


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
        _entity_names(store, metric.connector, ref, [k for k in keys if k is not None])
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


def _entity_names(store: Store, connector: str, entity_type: str, ids: list[Any]) -> dict[str, str]:
    name = for_store(store.dialect).field(_NAME)
    out: dict[str, str] = {}
    ids = [str(i) for i in ids]
    for i in range(0, len(ids), _BATCH):
        chunk = ids[i : i + _BATCH]
        rows = store.query(
            f"SELECT s.entity_id, {name} FROM entities s WHERE s.connector = ? "  # noqa: S608
            f"AND s.entity_type = ? AND s.entity_id IN ({', '.join('?' * len(chunk))})",
            [connector, entity_type, *chunk],
        )
        out.update({str(eid): str(n) for eid, n in rows if n})
    return out
