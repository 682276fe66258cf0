"""A metric's `filter`: conditions that must all hold, and `{or = [...]}` groups.

The models check the structure; `compile_filter` then checks each condition against the
fields of what the metric reads (from the catalogue) and converts its value to what SQL
compares, once the metric knows those fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator

from intercom_sync.metrics.catalogue import Field as CatalogueField
from intercom_sync.metrics.definitions import OPS, AnyOf, Condition, Filter, Op
from intercom_sync.metrics.validate.base import (
    Definition,
    choices,
    explained,
    first_unknown,
    invalid,
)

_OR_GROUP = "an 'or' group must be {or = [condition or [conditions], …]}"


class ConditionInput(Definition):
    """`field op value`; `value` defaults to true for `exists`, to null otherwise."""

    field: Any = None
    op: Annotated[Op, explained(lambda v: f"unknown op {v!r} (known: {choices(OPS)})")] = "eq"
    value: Any = None

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        if not isinstance(data, Mapping):
            return f"a filter condition must be a table, got {data!r}"
        key = first_unknown(data, cls.accepted_keys())
        return None if key is None else f"unknown filter key {key!r} (use field, op, value)"


class AnyOfInput(Definition):
    """True when any member holds; a member is a condition or a list of them (all of which
    must hold)."""

    groups: list[FilterInput] = Field(validation_alias="or")

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        return _OR_GROUP if set(data) != {"or"} else None

    @field_validator("groups", mode="before")
    @classmethod
    def _some_members(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise invalid(_OR_GROUP)
        return value


def _item_kind(item: Any) -> str:
    return "or" if isinstance(item, Mapping) and "or" in item else "condition"


def _as_list(value: Any) -> Any:
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        raise invalid(f"'filter' must be a list of conditions, got {value!r}")
    return value


FilterItem = Annotated[
    Annotated[ConditionInput, Tag("condition")] | Annotated[AnyOfInput, Tag("or")],
    Discriminator(_item_kind),
]
# One condition stands for a list of one.
FilterInput = Annotated[list[FilterItem], BeforeValidator(_as_list)]
AnyOfInput.model_rebuild()


def field_named(name: Any, fields: Mapping[str, CatalogueField], selected: str) -> CatalogueField:
    if name not in fields:
        raise invalid(f"unknown field {name!r} for {selected} (known: {choices(sorted(fields))})")
    return fields[name]


def compile_filter(
    items: list[ConditionInput | AnyOfInput], fields: Mapping[str, CatalogueField], selected: str
) -> Filter:
    return tuple(_compiled(item, fields, selected) for item in items)


def _compiled(
    item: ConditionInput | AnyOfInput, fields: Mapping[str, CatalogueField], selected: str
) -> Condition | AnyOf:
    if isinstance(item, AnyOfInput):
        return AnyOf(tuple(compile_filter(group, fields, selected) for group in item.groups))
    found = field_named(item.field, fields, selected)
    value = item.value
    if "value" not in item.model_fields_set and item.op == "exists":
        value = True
    return Condition(found, item.op, coerce_value(found, item.op, value))


def coerce_value(found: CatalogueField, op: Op, value: Any) -> Any:
    """Check an operand against the field's type and convert it to what SQL compares."""
    label = f"filter on {found.name!r} ({found.type})"
    if op == "exists":
        if not isinstance(value, bool):
            raise invalid(f"{label}: 'exists' takes true or false, got {value!r}")
        return value
    if found.type == "list" and op != "contains":
        raise invalid(f"{label}: a list field takes 'contains' or 'exists', not {op!r}")
    if op in ("in", "nin"):
        if not isinstance(value, list):
            raise invalid(f"{label}: {op!r} takes a list of values, got {value!r}")
        return tuple(_scalar(found, v, label) for v in value)
    if value is None:
        if op in ("eq", "neq"):
            return None
        raise invalid(f"{label}: {op!r} needs a value")
    if op == "contains":
        if found.type not in ("text", "list"):
            raise invalid(f"{label}: 'contains' needs a text or list field")
        return _text(value, label)
    if op in ("gt", "gte", "lt", "lte") and found.type == "bool":
        raise invalid(f"{label}: {op!r} cannot order true/false")
    return _scalar(found, value, label)


def _scalar(found: CatalogueField, value: Any, label: str) -> Any:
    if value is None:
        raise invalid(f"{label}: a list of values cannot hold null")
    if found.type == "bool":
        if not isinstance(value, bool):
            raise invalid(f"{label}: expected true or false, got {value!r}")
        return value
    if found.type in ("text", "list"):
        return _text(value, label)
    if found.type == "time" and isinstance(value, str | datetime | date):
        return _time_ms(value, label)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{label}: expected a number, got {value!r}")
    return value


def _text(value: Any, label: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid(f"{label}: expected text, got {value!r}")
    return str(value)


def _time_ms(value: str | datetime | date, label: str) -> int:
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
        raise invalid(f"{label}: not a time: {value!r}") from None
