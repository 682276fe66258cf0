"""The metric model: the reference's example in Python and TOML, and up-front validation."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from intercom_sync.metrics import (
    Config,
    DefinitionError,
    config_from_mapping,
    define_config,
    define_dashboard,
    define_metric,
    secret,
)
from intercom_sync.metrics.definitions import AnyOf, Condition

INTERCOM = {
    "name": "intercom",
    "connectorId": "intercom",
    "config": {
        "accessToken": secret("INTERCOM_ACCESS_TOKEN"),
        "region": "us",
        "apiVersion": "2.11",
    },
}


def seed_example() -> Any:
    """The reference's example, translated to Python as written."""
    return define_config(
        connectors=[INTERCOM],
        dashboards={
            "support": define_dashboard(
                widgets={
                    "open_conversations": {
                        "kind": "stat",
                        "title": "Open conversations",
                        "metric": define_metric(
                            connector=INTERCOM,
                            shape="entity",
                            entity_type="intercom_conversation",
                            fn="count",
                            filter=[{"field": "state", "op": "eq", "value": "open"}],
                        ),
                    },
                },
            ),
        },
    )


def loads_toml(text: str) -> Config:
    """Dashboards from TOML text, as the CLI reads them from its config file."""
    return config_from_mapping(tomllib.loads(text))


SEED_TOML = """
[intercom]
access_token = { env = "INTERCOM_ACCESS_TOKEN" }

[dashboards.support.widgets.open_conversations]
kind = "stat"
title = "Open conversations"

[dashboards.support.widgets.open_conversations.metric]
connector = "intercom"
shape = "entity"
entity_type = "intercom_conversation"
fn = "count"
filter = [{ field = "state", op = "eq", value = "open" }]
"""


def test_seed_example_compiles_to_an_open_conversations_count() -> None:
    config = seed_example()
    widget = config.dashboards["support"].widgets["open_conversations"]
    assert (widget.kind, widget.title) == ("stat", "Open conversations")
    metric = widget.metric
    assert (metric.connector, metric.shape, metric.selected, metric.fn) == (
        "intercom",
        "entity",
        "intercom_conversation",
        "count",
    )
    assert len(metric.filter) == 1
    condition = metric.filter[0]
    assert isinstance(condition, Condition)
    assert (condition.field.name, condition.op, condition.value) == ("state", "eq", "open")


def test_toml_gives_the_same_model_as_python() -> None:
    from_toml = loads_toml(SEED_TOML).dashboards["support"]
    from_python = seed_example().dashboards["support"]
    assert from_toml == from_python


def test_toml_table_form_and_camel_case_keys() -> None:
    text = """
[dashboards.ops]
title = "Ops"
[dashboards.ops.widgets.by_team]
kind = "distribution"
[dashboards.ops.widgets.by_team.metric]
entityType = "intercom_conversation"
groupBy = "teamAssigneeId"
window = "7d"
filter = [{ or = [[{ field = "state", value = "open" }], { field = "priority", value = "x" }] }]
"""
    dashboard = loads_toml(text).dashboards["ops"]
    metric = dashboard.widgets["by_team"].metric
    assert dashboard.title == "Ops"
    assert metric.dimension is not None and metric.dimension.name == "teamAssigneeId"
    assert metric.window_ms == 7 * 86_400_000
    group = metric.filter[0]
    assert isinstance(group, AnyOf) and len(group.groups) == 2


def test_secret_is_read_from_the_environment_and_never_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = secret("TEST_METRICS_TOKEN")
    monkeypatch.setenv("TEST_METRICS_TOKEN", "very-secret-value")
    assert token.reveal() == "very-secret-value"
    assert "very-secret-value" not in repr(token) + str(token) + repr(seed_example())
    monkeypatch.delenv("TEST_METRICS_TOKEN")
    with pytest.raises(LookupError, match="TEST_METRICS_TOKEN"):
        token.reveal()


# -- validation: each error names the dashboard, the widget and the bad value ----------------


def _one_widget(widget: dict[str, Any], dashboard: str = "team_view") -> Any:
    return define_config(
        connectors=[INTERCOM],
        dashboards={dashboard: define_dashboard(widgets={"the_widget": widget})},
    )


def _stat(**metric: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"connector": INTERCOM, "entity_type": "intercom_conversation"}
    return {"kind": "stat", "metric": define_metric(**(base | metric))}


@pytest.mark.parametrize(
    ("widget", "bad"),
    [
        (_stat(connector={"name": "zendesk"}), "'zendesk'"),
        (_stat(shape="blob"), "'blob'"),
        (_stat(entity_type="intercom_conversations"), "'intercom_conversations'"),
        (_stat(fn="median", field="countReopens"), "'median'"),
        (_stat(filter=[{"field": "stat", "op": "eq", "value": "open"}]), "'stat'"),
        (_stat(filter=[{"field": "state", "op": "like", "value": "open"}]), "'like'"),
        (_stat(fn="avg", field="priorty"), "'priorty'"),
        (_stat(group_by="nonsense"), "'nonsense'"),
        (
            {
                "kind": "gauge",
                "metric": define_metric(connector=INTERCOM, entity_type="intercom_team"),
            },
            "'gauge'",
        ),
    ],
)
def test_bad_definitions_name_dashboard_widget_and_value(widget: dict[str, Any], bad: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        _one_widget(widget)
    message = str(caught.value)
    assert message.startswith("dashboard 'team_view', widget 'the_widget': ")
    assert bad in message
    assert (caught.value.dashboard, caught.value.widget) == ("team_view", "the_widget")


def test_unknown_connector_id_is_rejected() -> None:
    other = {"name": "helpdesk", "connectorId": "zendesk"}
    with pytest.raises(DefinitionError, match="unknown connector 'zendesk'"):
        define_config(
            connectors=[other],
            dashboards={
                "d": define_dashboard(
                    widgets={
                        "w": {
                            "kind": "stat",
                            "metric": define_metric(connector=other, entity_type="intercom_tag"),
                        }
                    }
                )
            },
        )


def test_toml_errors_name_dashboard_and_widget() -> None:
    text = """
[dashboards.sales.widgets.deals]
kind = "stat"
metric = { entity_type = "intercom_team", filter = [{ field = "name", value = true }] }
"""
    with pytest.raises(DefinitionError, match=r"dashboard 'sales', widget 'deals': .*'name'.*True"):
        loads_toml(text)


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"fn": "sum", "field": "state"}, "needs a numeric field"),
        ({"fn": "p90"}, "needs a 'field'"),
        ({"filter": [{"field": "countReopens", "op": "gt", "value": "many"}]}, "expected a number"),
        ({"filter": [{"field": "open", "op": "eq", "value": "yes"}]}, "expected true or false"),
        ({"filter": [{"field": "state", "op": "in", "value": "open"}]}, "takes a list"),
        ({"filter": [{"field": "tags", "op": "eq", "value": "vip"}]}, "a list field takes"),
        ({"filter": [{"field": "countReopens", "op": "contains", "value": "1"}]}, "text or list"),
        ({"filter": [{"field": "open", "op": "gt", "value": True}]}, "cannot order"),
        ({"filter": [{"field": "state", "op": "exists", "value": "x"}]}, "takes true or false"),
        ({"filter": [{"field": "state", "op": "eq", "value": "open", "extra": 1}]}, "'extra'"),
        ({"window": "a week"}, "bad window"),
        ({"time_field": "state"}, "not a time"),
        ({"group_by": "createdAt"}, "with a bucket"),
    ],
)
def test_type_checks_on_fields_and_values(metric: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        _one_widget(_stat(**metric))


@pytest.mark.parametrize(
    ("widget", "message"),
    [
        (_stat(group_by="state"), "stat widget shows one value"),
        ({"kind": "timeseries", "metric": _stat()["metric"]}, "time bucket"),
        ({"kind": "distribution", "metric": _stat()["metric"]}, "one dimension"),
        ({"kind": "table", "metric": _stat()["metric"]}, "needs group_by"),
        ({"kind": "stat", "compare": True, "metric": _stat()["metric"]}, "needs a window"),
        ({"kind": "stat"}, "exactly one of"),
        ({"kind": "stat", "metric": _stat()["metric"], "colour": "red"}, "'colour'"),
        ({"kind": "stat", "metric": _stat()["metric"], "limit": 0}, "'limit'"),
    ],
)
def test_widget_kinds_need_their_grouping(widget: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        _one_widget(widget)


def test_mixed_groupings_in_one_table_are_rejected() -> None:
    widget = {
        "kind": "table",
        "metrics": {
            "a": define_metric(
                connector=INTERCOM, entity_type="intercom_conversation", group_by="state"
            ),
            "b": define_metric(
                connector=INTERCOM, entity_type="intercom_conversation", group_by="channel"
            ),
        },
    }
    with pytest.raises(DefinitionError, match="same group_by"):
        _one_widget(widget)


def test_derived_metrics_are_checked_by_name_and_kind() -> None:
    queue = define_metric(connector=INTERCOM, shape="derived", name="unassigned_queue_depth")
    with pytest.raises(DefinitionError, match="draws as timeseries, not 'stat'"):
        _one_widget({"kind": "stat", "metric": queue})
    unknown = define_metric(connector=INTERCOM, shape="derived", name="happiness")
    with pytest.raises(DefinitionError, match="'happiness'"):
        _one_widget({"kind": "stat", "metric": unknown})


def test_time_values_accept_iso_strings() -> None:
    config = _one_widget(
        _stat(filter=[{"field": "createdAt", "op": "gte", "value": "2026-01-01T00:00:00Z"}])
    )
    condition = config.dashboards["team_view"].widgets["the_widget"].metric.filter[0]
    assert condition.value == 1_767_225_600_000


def test_default_time_field_is_created_at_for_conversations_and_ts_for_metrics() -> None:
    conv = _one_widget(_stat(window="7d")).dashboards["team_view"].widgets["the_widget"].metric
    assert conv.time_field is not None and conv.time_field.name == "createdAt"
    rows = define_metric(connector=INTERCOM, shape="metric", name="count_reopens", window="7d")
    metric = (
        _one_widget({"kind": "stat", "metric": rows})
        .dashboards["team_view"]
        .widgets["the_widget"]
        .metric
    )
    assert metric.time_field is not None and metric.time_field.name == "ts"
    edge = define_metric(connector=INTERCOM, shape="edge", relation="tagged", window="7d")
    with pytest.raises(DefinitionError, match="needs a time field"):
        _one_widget({"kind": "stat", "metric": edge})


@pytest.mark.parametrize(
    ("widget", "message"),
    [
        ({"kind": "stat", "metric": _stat()["metric"], "compare": "yes"}, "'compare' must be true"),
        (
            {"kind": "stat", "metric": _stat()["metric"], "limit": True},
            "'limit' must be an integer",
        ),
        ({"kind": "stat", "metric": _stat()["metric"], "sort": "size"}, "'sort' must be 'value'"),
        ({"kind": "stat", "metric": _stat()["metric"], "better": "up"}, "'better' must be higher"),
        ({"kind": "stat", "metrics": {}}, "'metrics' must map column labels"),
        ({"kind": "stat", "metric": "count"}, "a metric must be a table of settings, got str"),
        ({"kind": "stat", "metric": {"entity_type": "intercom_tag", "colour": 1}}, "metric key"),
        (_stat(filter="state"), "a filter condition must be a table"),
        (_stat(filter=[{"or": []}]), r"an 'or' group must be \{or = \["),
        (_stat(filter=[{"field": "state", "op": "in", "value": [None]}]), "cannot hold null"),
        (_stat(filter=[{"field": "createdAt", "value": "soon"}]), "not a time: 'soon'"),
        (_stat(window=[1]), "bad window"),
        (_stat(group_by=["day", "week"]), "cannot bucket by 'week'"),
        (_stat(group_by=["state", "channel"]), "at most one dimension"),
        (_stat(fn="latest", field="state", shape="edge"), "selected by 'relation'"),
        (
            {"kind": "stat", "metric": define_metric(connector=INTERCOM, shape="event")},
            "shape 'event' needs 'event_type'",
        ),
        (
            {
                "kind": "stat",
                "metric": define_metric(connector=INTERCOM, shape="rollup", name="a-b"),
            },
            "bad name 'a-b' .letters, digits and _ only.",
        ),
        (
            {
                "kind": "stat",
                "metric": define_metric(
                    connector=INTERCOM, shape="derived", name="parts_gaps", fn="count"
                ),
            },
            "derived metric 'parts_gaps' takes no 'fn'",
        ),
        (
            {
                "kind": "timeseries",
                "metric": define_metric(
                    connector=INTERCOM,
                    shape="derived",
                    name="unassigned_queue_depth",
                    group_by="state",
                ),
            },
            "group_by must be one of hour, day, week, month",
        ),
        (
            {"kind": "stat", "metric": {"shape": "derived", "name": "parts_gaps", "entityType": 1}},
            "takes no 'entity_type'",
        ),
    ],
)
def test_every_check_keeps_its_wording(widget: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        _one_widget(widget)
    assert (caught.value.dashboard, caught.value.widget) == ("team_view", "the_widget")


@pytest.mark.parametrize(
    ("dashboards", "widget", "message"),
    [
        ({"d": {"title": "x"}}, None, "a dashboard needs a 'widgets' table"),
        ({"d": {"widgets": {}}}, None, "a dashboard needs at least one widget"),
        ({"d": {"widgets": {"w": _stat()}, "colour": 1}}, None, "unknown dashboard key 'colour'"),
        ({"d": {"widgets": {"bad-id": _stat()}}}, "bad-id", "bad widget id 'bad-id'"),
        ({"d": {"widgets": {"w": "stat"}}}, "w", "a widget must be a table"),
    ],
)
def test_dashboard_checks_name_the_dashboard(
    dashboards: dict[str, Any], widget: str | None, message: str
) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        define_config(connectors=[INTERCOM], dashboards=dashboards)
    assert (caught.value.dashboard, caught.value.widget) == ("d", widget)


def test_a_metric_without_connector_needs_a_single_one() -> None:
    other = {"name": "other", "connectorId": "intercom"}
    widget = {"kind": "stat", "metric": {"entity_type": "intercom_tag"}}
    with pytest.raises(DefinitionError, match="metric has no 'connector' and the config has"):
        define_config(connectors=[INTERCOM, other], dashboards={"d": {"widgets": {"w": widget}}})
    named = {"kind": "stat", "metric": {"entity_type": "intercom_tag", "connector": other}}
    config = define_config(
        connectors=[INTERCOM, other], dashboards={"d": {"widgets": {"w": named}}}
    )
    assert config.dashboards["d"].widgets["w"].metric.connector == "other"
