"""Metrics and dashboards over the store (DESIGN §7).

The reference's model in Python (`define_config`, `define_dashboard`, `define_metric`,
`secret`) and in TOML, evaluated as parameterised SQL on SQLite or PostgreSQL, plus the
built-in support dashboard.
"""

from intercom_sync.metrics.compute import evaluate
from intercom_sync.metrics.definitions import Dashboard, Metric, Widget
from intercom_sync.metrics.durations import Span
from intercom_sync.metrics.model import (
    Config,
    Connector,
    Secret,
    config_from_mapping,
    define_config,
    define_dashboard,
    define_metric,
    secret,
)
from intercom_sync.metrics.support import support_config, support_dashboard
from intercom_sync.metrics.validate import DefinitionError
from intercom_sync.metrics.widgets import evaluate_widget

__all__ = [
    "Config",
    "Connector",
    "Dashboard",
    "DefinitionError",
    "Metric",
    "Secret",
    "Span",
    "Widget",
    "config_from_mapping",
    "define_config",
    "define_dashboard",
    "define_metric",
    "evaluate",
    "evaluate_widget",
    "secret",
    "support_config",
    "support_dashboard",
]
