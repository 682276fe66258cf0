"""The metric model in Python and TOML, mirroring the reference (`defineConfig` & co.).

    intercom = {"name": "intercom", "connectorId": "intercom",
                "config": {"accessToken": secret("INTERCOM_ACCESS_TOKEN")}}
    config = define_config(
        connectors=[intercom],
        dashboards={"support": define_dashboard(widgets={
            "open_conversations": {
                "kind": "stat", "title": "Open conversations",
                "metric": define_metric(connector=intercom, shape="entity",
                                        entity_type="intercom_conversation", fn="count",
                                        filter=[{"field": "state", "op": "eq", "value": "open"}]),
            }})})

The same dashboards in TOML live under `[dashboards.<id>.widgets.<id>]` of the config
file (`config_from_mapping` reads them). `define_metric` and `define_dashboard` only
record what they are given, as read-only mappings like the TOML tables; `define_config`
and `config_from_mapping` validate everything, so each error can name its dashboard and
widget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from intercom_sync.metrics.definitions import Dashboard
from intercom_sync.metrics.validate import DefinitionError, compile_dashboards


@dataclass(frozen=True)
class Secret:
    """A value read from the environment when needed; never printed."""

    env: str

    def reveal(self) -> str:
        value = os.environ.get(self.env)
        if not value:
            raise LookupError(f"secret {self.env} is not set: export {self.env}=...")
        return value

    def __repr__(self) -> str:
        return f"secret({self.env!r})"

    __str__ = __repr__


def secret(env: str) -> Secret:
    """Refer to a secret by the name of the environment variable that holds it."""
    return Secret(env)


@dataclass(frozen=True)
class Connector:
    name: str
    connector_id: str = "intercom"
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    connectors: tuple[Connector, ...]
    dashboards: dict[str, Dashboard]

    def merged(self, other: Config) -> Config:
        """This config's dashboards plus `other`'s; `other` wins on the same id."""
        names = {c.name for c in self.connectors}
        connectors = self.connectors + tuple(c for c in other.connectors if c.name not in names)
        return Config(connectors, {**self.dashboards, **other.dashboards})


def define_metric(
    *,
    connector: Any = None,
    shape: str = "entity",
    entity_type: str | None = None,
    event_type: str | None = None,
    name: str | None = None,
    relation: str | None = None,
    fn: str | None = None,
    field: str | None = None,
    filter: Sequence[Mapping[str, Any]] | None = None,
    group_by: str | Sequence[str] | None = None,
    time_field: str | None = None,
    window: str | None = None,
) -> Mapping[str, Any]:
    given = {
        "connector": connector,
        "shape": shape,
        "entity_type": entity_type,
        "event_type": event_type,
        "name": name,
        "relation": relation,
        "fn": fn,
        "field": field,
        "filter": None if filter is None else list(filter),
        "group_by": group_by if group_by is None or isinstance(group_by, str) else list(group_by),
        "time_field": time_field,
        "window": window,
    }
    return MappingProxyType({k: v for k, v in given.items() if v is not None})


def define_dashboard(*, widgets: Mapping[str, Any], title: str | None = None) -> Mapping[str, Any]:
    given = {"widgets": dict(widgets)}
    return MappingProxyType(given if title is None else given | {"title": title})


def define_config(
    *, connectors: Sequence[Any], dashboards: Mapping[str, Mapping[str, Any]]
) -> Config:
    """Validate every dashboard against the connectors; raises `DefinitionError`."""
    resolved = tuple(as_connector(c) for c in connectors)
    return Config(resolved, _compiled(dashboards, resolved))


def as_connector(value: Any) -> Connector:
    """A `Connector`, the reference's object (`name`, `connectorId`, `config`), or a name."""
    if isinstance(value, Connector):
        return value
    if isinstance(value, str):
        return Connector(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        connector_id = value.get("connectorId", value.get("connector_id", value["name"]))
        return Connector(value["name"], str(connector_id), dict(value.get("config") or {}))
    raise DefinitionError("(config)", None, f"not a connector: {value!r}")


def _compiled(dashboards: Any, connectors: Sequence[Connector]) -> dict[str, Dashboard]:
    return compile_dashboards(dashboards, {c.name: c.connector_id for c in connectors})


# -- TOML ------------------------------------------------------------------------------------


def config_from_mapping(data: Mapping[str, Any]) -> Config:
    """Dashboards from a parsed `intercom-sync.toml`; its one connector is `intercom`."""
    dashboards = data.get("dashboards", {})
    if not isinstance(dashboards, Mapping):
        raise DefinitionError("(config)", None, "[dashboards] must be a table of dashboards")
    connectors = (Connector("intercom", "intercom"),)
    return Config(connectors, _compiled(dashboards, connectors))
