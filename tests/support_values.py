"""The support dashboard's figures as plain Python data, to compare with an independent
computation (the simulator's ground truth, a plain-Python recount, the other backend).

Test scaffolding: the product serves widget bodies (`evaluate_widget`); this reduces
them to their values.
"""

from __future__ import annotations

from typing import Any

from intercom_sync.metrics.support import support_dashboard
from intercom_sync.metrics.view import View
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store.base import Store


def support_metrics(store: Store, now: float, view: View | None = None) -> dict[str, Any]:
    """Every support widget's value as plain Python data, as of `now` (Unix seconds), or
    for `view` when given.

    Meant for comparing with an independent computation: stats are numbers (or
    {label: number} when a widget shows several), time series {iso bucket: value} (or
    {series: {…}}), distributions {label: value} and tables {row label: {column: value}}.
    """
    chosen = view or View(int(now * 1000))
    return {
        wid: plain_value(evaluate_widget(store, widget, chosen))
        for wid, widget in support_dashboard().widgets.items()
    }


def plain_value(body: dict[str, Any]) -> Any:
    """A widget body reduced to its values (no titles, units or windows)."""
    kind = body["kind"]
    if kind == "stat":
        values = {v["label"]: v["value"] for v in body["values"]}
        return next(iter(values.values())) if len(values) == 1 else values
    if kind == "timeseries":
        series = {s["name"]: dict(zip(body["x"], s["y"], strict=True)) for s in body["series"]}
        return next(iter(series.values())) if len(series) == 1 else series
    if kind == "distribution":
        return {item["label"]: item["value"] for item in body["items"]}
    columns = body["columns"][1:]
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in body["rows"]}
