"""Widgets and dashboards: one model per widget kind, told apart by `kind`.

Every kind takes the same settings; what differs is the grouping its metrics need (a stat
shows one value, a timeseries needs a time bucket …), which each kind checks once its
metrics are valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from intercom_sync.metrics.definitions import (
    BETTER,
    KINDS,
    Better,
    Dashboard,
    Kind,
    Metric,
    Widget,
)
from intercom_sync.metrics.derived import DERIVED
from intercom_sync.metrics.durations import BUCKETS
from intercom_sync.metrics.validate.base import (
    DEFINITION,
    Definition,
    DefinitionError,
    Text,
    choices,
    explained,
    first_unknown,
    identifier,
    invalid,
)
from intercom_sync.metrics.validate.metric import MetricField


class WidgetInput(Definition):
    """One card: `metric` (or `metrics`, by column label) and how to draw them."""

    kind: Kind
    title: Text | None = None
    metric: MetricField | None = None
    metrics: dict[Text, MetricField] | None = None
    denominator: MetricField | None = None
    compare: Annotated[
        StrictBool, explained(lambda v: f"'compare' must be true or false, got {v!r}")
    ] = False
    limit: Annotated[
        int,
        Field(ge=1, le=1000, strict=True),
        explained(lambda v: f"'limit' must be an integer from 1 to 1000, got {v!r}"),
    ] = 20
    unit: Text = ""
    sort: Annotated[
        Literal["value", "label"],
        explained(lambda v: f"'sort' must be 'value' or 'label', got {v!r}"),
    ] = "value"
    description: Text = ""
    better: Annotated[
        Better | None, explained(lambda v: f"'better' must be {choices(BETTER)}, got {v!r}")
    ] = None
    axis: Text = ""

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        if not isinstance(data, Mapping):
            return "a widget must be a table"
        key = first_unknown(data, cls.accepted_keys())
        if key is not None:
            return f"unknown widget key {key!r} (known: {choices(sorted(cls.accepted_keys()))})"
        if ("metric" in data) == ("metrics" in data):
            return "give exactly one of 'metric' or 'metrics'"
        return None

    @field_validator("metrics", mode="before")
    @classmethod
    def _labelled(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or not value:
            raise invalid("'metrics' must map column labels to metric definitions")
        return value

    def columns(self) -> tuple[tuple[str, Metric], ...]:
        """The validated metrics by column label (a single `metric` is labelled "value")."""
        if self.metric is not None:
            return (("value", self.metric.compiled),)
        assert self.metrics is not None
        return tuple((label, m.compiled) for label, m in self.metrics.items())

    def grouping_problem(self, grouped: Metric) -> str | None:
        """Why this kind cannot draw metrics grouped as `grouped` is (None: it can)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _drawable(self) -> Self:
        """All metrics grouped alike, the way this kind draws them."""
        metrics = [m for _, m in self.columns()]
        if self.denominator is not None:
            metrics.append(self.denominator.compiled)
        groupings = {(m.bucket, m.dimension.name if m.dimension else None) for m in metrics}
        if len(groupings) > 1:
            raise invalid("every metric of a widget must use the same group_by")
        derived = [m for m in metrics if m.derived]
        for metric in derived:
            kinds = DERIVED[metric.selected].kinds
            if self.kind not in kinds:
                raise invalid(
                    f"derived metric {metric.selected!r} draws as {choices(kinds)}, "
                    f"not {self.kind!r}"
                )
        if derived:
            return self
        problem = self.grouping_problem(metrics[0])
        if problem is not None:
            raise invalid(problem)
        if self.compare and any(m.window_ms is None for m in metrics):
            raise invalid("'compare' needs a window on every metric (e.g. window = '7d')")
        return self

    def compiled(self, widget_id: str) -> Widget:
        return Widget(
            id=widget_id,
            kind=self.kind,
            title=self.title or widget_id.replace("_", " ").capitalize(),
            metrics=self.columns(),
            denominator=None if self.denominator is None else self.denominator.compiled,
            compare=self.compare,
            limit=self.limit,
            unit=self.unit,
            sort=self.sort,
            description=self.description,
            better=self.better,
            axis=self.axis,
        )


class StatInput(WidgetInput):
    kind: Literal["stat"]

    def grouping_problem(self, grouped: Metric) -> str | None:
        if grouped.bucket or grouped.dimension:
            return "a stat widget shows one value: remove group_by"
        return None


class TimeseriesInput(WidgetInput):
    kind: Literal["timeseries"]

    def grouping_problem(self, grouped: Metric) -> str | None:
        if not grouped.bucket:
            return f"a timeseries widget needs group_by with a time bucket ({choices(BUCKETS)})"
        if grouped.dimension and len(self.columns()) > 1:
            return "a timeseries grouped by a dimension takes a single metric"
        return None


class DistributionInput(WidgetInput):
    kind: Literal["distribution"]

    def grouping_problem(self, grouped: Metric) -> str | None:
        if not grouped.dimension or grouped.bucket or len(self.columns()) > 1:
            return "a distribution widget needs one metric grouped by one dimension"
        return None


class TableInput(WidgetInput):
    kind: Literal["table"]

    def grouping_problem(self, grouped: Metric) -> str | None:
        if not (grouped.bucket or grouped.dimension):
            return "a table widget needs group_by (a dimension or a time bucket)"
        return None


def _known_kind(value: Any) -> Any:
    """Every kind takes the same keys: refuse unknown ones before the kind picks a model."""
    problem = WidgetInput.refusal(value)
    if problem is not None:
        raise invalid(problem)
    kind = value.get("kind")
    if kind not in KINDS:
        raise invalid(f"unknown kind {kind!r} (known: {choices(KINDS)})")
    return value


WidgetField = Annotated[
    Annotated[StatInput, Tag("stat")]
    | Annotated[TimeseriesInput, Tag("timeseries")]
    | Annotated[DistributionInput, Tag("distribution")]
    | Annotated[TableInput, Tag("table")],
    Discriminator("kind"),
    BeforeValidator(_known_kind),
]
# Checked as the text it will be used as (a TOML key always is).
WidgetId = Annotated[str, identifier("widget id"), BeforeValidator(str)]


class DashboardInput(Definition):
    title: Text | None = None
    widgets: dict[WidgetId, WidgetField]

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("widgets"), Mapping):
            return "a dashboard needs a 'widgets' table"
        key = first_unknown(data, cls.accepted_keys())
        return None if key is None else f"unknown dashboard key {key!r} (use title, widgets)"

    @model_validator(mode="after")
    def _some_widget(self) -> Self:
        if not self.widgets:
            raise invalid("a dashboard needs at least one widget")
        return self

    def compiled(self, dashboard_id: str) -> Dashboard:
        widgets = {wid: widget.compiled(wid) for wid, widget in self.widgets.items()}
        return Dashboard(dashboard_id, self.title or dashboard_id.title(), widgets)


_DASHBOARDS = TypeAdapter(dict[Text, DashboardInput])


def compile_dashboards(
    dashboards: Mapping[Any, Any], connectors: Mapping[str, str]
) -> dict[str, Dashboard]:
    """Validate dashboards (by id) against the connectors (name → connector id).

    Raises `DefinitionError` for the first thing wrong, naming its dashboard and widget."""
    try:
        valid = _DASHBOARDS.validate_python(dashboards, context={"connectors": connectors})
    except ValidationError as exc:
        raise _definition_error(exc) from None
    return {did: dashboard.compiled(did) for did, dashboard in valid.items()}


def _definition_error(exc: ValidationError) -> DefinitionError:
    """Where the first failure sits: (dashboard, "widgets", widget, …) in its location."""
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    widget = str(loc[2]) if len(loc) > 2 and loc[1] == "widgets" else None
    detail = error["msg"]
    if error["type"] != DEFINITION:  # a pydantic check without wording of its own
        detail = f"{'.'.join(str(p) for p in loc[3:])}: {detail}"
    return DefinitionError(str(loc[0]) if loc else "(config)", widget, detail)
