"""Turn user definitions (Python mappings or TOML tables) into validated dashboards.

Pydantic models check everything up front, before any SQL exists: an unknown connector,
shape, entity type, field, fn or op is a `DefinitionError` naming the dashboard, the
widget and the bad value, so a typo in a config never reaches the database.

* `base` — the error, and how a check words its message;
* `filters` — conditions and OR groups, checked against the fields of what a metric reads;
* `metric` — a query over a storage shape, or a derived metric by name;
* `dashboards` — one model per widget kind, dashboards, and `compile_dashboards`.
"""

from intercom_sync.metrics.validate.base import DefinitionError
from intercom_sync.metrics.validate.dashboards import compile_dashboards

__all__ = ["DefinitionError", "compile_dashboards"]
