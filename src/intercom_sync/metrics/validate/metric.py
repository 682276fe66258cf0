"""A metric definition: one query over one storage shape, or a derived metric by name.

The models check each setting's type; the checks against the catalogue (does this entity
type have that field, can this fn aggregate it, is there a time to bucket by) run once
the metric's shape and selector are known, and produce the validated `Metric`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from intercom_sync.metrics.catalogue import (
    SHAPE_NAMES,
    SHAPES,
    ShapeName,
    default_time_field,
    fields_of,
    selector_values,
)
from intercom_sync.metrics.catalogue import Field as CatalogueField
from intercom_sync.metrics.definitions import FNS, PERCENTILES, Fn, Metric
from intercom_sync.metrics.derived import DERIVED
from intercom_sync.metrics.durations import BUCKETS, Bucket, parse_duration
from intercom_sync.metrics.validate.base import (
    Definition,
    checked_identifier,
    choices,
    explained,
    first_unknown,
    invalid,
)
from intercom_sync.metrics.validate.filters import FilterInput, compile_filter, field_named

KNOWN_CONNECTORS: tuple[str, ...] = ("intercom",)
# The reference's camelCase spellings, accepted beside snake_case.
CAMEL_CASE = {
    "entity_type": "entityType",
    "event_type": "eventType",
    "group_by": "groupBy",
    "time_field": "timeField",
}
_SELECTORS = ("entity_type", "event_type", "name", "relation")
_NUMERIC = ("number", "time", "bool")


def _either_case(name: str) -> AliasChoices:
    return AliasChoices(name, CAMEL_CASE[name])


def _duration_ms(value: Any) -> int:
    try:
        return int(parse_duration(value) * 1000)
    except (TypeError, ValueError) as exc:
        raise invalid(f"bad window {value!r}: {exc}") from None


# A window such as "7d", in milliseconds.
WindowMs = Annotated[int, BeforeValidator(_duration_ms)]


class MetricInput(Definition):
    """What every metric has: a connector, resolved against the configured ones (which
    validation is given as context), and the validated `Metric` it compiles to."""

    connector: str = Field(None, validate_default=True)
    _compiled: Metric = PrivateAttr()

    @property
    def compiled(self) -> Metric:
        return self._compiled

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        if not isinstance(data, Mapping):
            return f"a metric must be a table of settings, got {type(data).__name__}"
        key = first_unknown(data, StoredMetricInput.accepted_keys())  # it takes every metric key
        if key is not None:
            known = choices(sorted(StoredMetricInput.model_fields))
            return f"unknown metric key {key!r} (known: {known})"
        return None

    @field_validator("connector", mode="before")
    @classmethod
    def _configured(cls, value: Any, info: ValidationInfo) -> str:
        """The metric's connector (an object, a mapping or a name) by its name."""
        connectors: Mapping[str, str] = (info.context or {}).get("connectors", {})
        if value is None:
            if len(connectors) == 1:
                return next(iter(connectors))
            raise invalid("metric has no 'connector' and the config has several")
        name = value if isinstance(value, str) else getattr(value, "name", None)
        if isinstance(value, Mapping):
            name = value.get("name")
        if not isinstance(name, str) or name not in connectors:
            raise invalid(f"unknown connector {name!r} (configured: {choices(sorted(connectors))})")
        if connectors[name] not in KNOWN_CONNECTORS:
            raise invalid(
                f"unknown connector {connectors[name]!r} (known: {choices(KNOWN_CONNECTORS)})"
            )
        return name


class StoredMetricInput(MetricInput):
    """An aggregate (`fn`) over the rows of one shape, selected by its selector key."""

    shape: Annotated[
        ShapeName,
        explained(lambda v: f"unknown shape {v!r} (known: {choices(SHAPE_NAMES)})"),
    ] = "entity"
    entity_type: Any = Field(None, validation_alias=_either_case("entity_type"))
    event_type: Any = Field(None, validation_alias=_either_case("event_type"))
    name: Any = None
    relation: Any = None
    fn: Annotated[Fn, explained(lambda v: f"unknown fn {v!r} (known: {choices(FNS)})")] = "count"
    time_field: Any = Field(None, validation_alias=_either_case("time_field"))
    group_by: list[Any] = Field(default_factory=list, validation_alias=_either_case("group_by"))
    field: Any = None
    filter: FilterInput = Field(default_factory=list)
    window: WindowMs | None = None

    @field_validator("group_by", mode="before")
    @classmethod
    def _one_or_two(cls, value: Any) -> Any:
        items = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(items, list) or len(items) > 2:
            raise invalid(f"group_by takes a field, a time bucket, or both; got {value!r}")
        return items

    @model_validator(mode="after")
    def _against_the_catalogue(self) -> Self:
        selected = self._selected()
        fields = fields_of(self.shape, selected)
        time_field = self._time_field(selected, fields)
        bucket, dimension = self._grouping(fields, time_field, selected)
        field = self._fn_field(fields, time_field, selected)
        conditions = compile_filter(self.filter, fields, selected)
        if self.window is not None and time_field is None:
            raise invalid("a window needs a time field, and this shape has none")
        self._compiled = Metric(
            connector=self.connector,
            shape=self.shape,
            selected=selected,
            fn=self.fn,
            field=field,
            filter=conditions,
            dimension=dimension,
            bucket=bucket,
            time_field=time_field,
            window_ms=self.window,
        )
        return self

    def _selected(self) -> str:
        """What the shape's selector names (an entity type, an event type, a name …)."""
        key = SHAPES[self.shape].selector
        for other in _SELECTORS:
            if other != key and other in self.model_fields_set:
                raise invalid(f"shape {self.shape!r} is selected by {key!r}, not {other!r}")
        value = getattr(self, key)
        allowed = selector_values(self.shape)
        if value is None:
            raise invalid(f"shape {self.shape!r} needs {key!r}")
        if allowed is not None and value not in allowed:
            raise invalid(f"unknown {key.replace('_', ' ')} {value!r} (known: {choices(allowed)})")
        return checked_identifier(value, key)

    def _time_field(
        self, selected: str, fields: Mapping[str, CatalogueField]
    ) -> CatalogueField | None:
        if self.time_field is None:
            default = default_time_field(self.shape, selected)
            return None if default is None else fields[default]
        found = field_named(self.time_field, fields, selected)
        if found.type != "time":
            raise invalid(f"time_field {found.name!r} is {found.type}, not a time")
        return found

    def _grouping(
        self, fields: Mapping[str, CatalogueField], time_field: CatalogueField | None, selected: str
    ) -> tuple[Bucket | None, CatalogueField | None]:
        bucket: Bucket | None = None
        dimension: CatalogueField | None = None
        for item in self.group_by:
            if item in BUCKETS:
                if bucket or time_field is None:
                    raise invalid(
                        f"cannot bucket by {item!r} here (one bucket, needs a time field)"
                    )
                bucket = item
            else:
                if dimension is not None:
                    raise invalid("group_by takes at most one dimension")
                dimension = field_named(item, fields, selected)
                if dimension.type == "time":
                    raise invalid(f"group by a time field with a bucket ({choices(BUCKETS)})")
        return bucket, dimension

    def _fn_field(
        self, fields: Mapping[str, CatalogueField], time_field: CatalogueField | None, selected: str
    ) -> CatalogueField | None:
        fn = self.fn
        if self.field is None:
            if fn == "count":
                return None
            raise invalid(f"fn {fn!r} needs a 'field'")
        found = field_named(self.field, fields, selected)
        if found.type == "list" and fn != "count":
            raise invalid(f"fn {fn!r} cannot aggregate the list field {found.name!r}")
        if fn in ("sum", "avg", *PERCENTILES) and found.type not in _NUMERIC:
            raise invalid(f"fn {fn!r} needs a numeric field; {found.name!r} is {found.type}")
        if fn in ("min", "max") and found.type == "bool":
            raise invalid(f"fn {fn!r} cannot order the bool field {found.name!r}")
        if fn in ("latest", "first") and time_field is None:
            raise invalid(f"fn {fn!r} needs a time to order by, and {selected} has none")
        return found


def _derived_name(value: Any) -> Any:
    if value not in DERIVED:
        raise invalid(f"unknown derived metric {value!r} (known: {choices(sorted(DERIVED))})")
    return value


class DerivedMetricInput(MetricInput):
    """A computation declared in `derived.DERIVED`, by its name."""

    shape: Literal["derived"]
    name: Annotated[str, BeforeValidator(_derived_name)] = Field(None, validate_default=True)
    group_by: Bucket | None = Field(None, validation_alias=_either_case("group_by"))
    window: WindowMs | None = None

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        problem = super().refusal(data)
        if problem is not None:
            return problem
        name, takes = data.get("name"), set(cls.accepted_keys())
        extra = sorted({_snake_case(str(k)) for k in data if k not in takes})
        if extra and name in DERIVED:  # (an unknown name is the error to report)
            return f"derived metric {name!r} takes no {extra[0]!r}"
        return None

    @field_validator("group_by", mode="wrap")
    @classmethod
    def _a_bucket(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        try:
            return handler(value)
        except ValueError:
            name = info.data.get("name")
            raise invalid(
                f"derived metric {name!r}: group_by must be one of {choices(BUCKETS)}"
            ) from None

    @model_validator(mode="after")
    def _compile(self) -> Self:
        self._compiled = Metric(
            connector=self.connector,
            shape="derived",
            selected=self.name,
            bucket=self.group_by,
            window_ms=self.window,
        )
        return self


def _snake_case(key: str) -> str:
    return next((snake for snake, camel in CAMEL_CASE.items() if camel == key), key)


def _shape_of(value: Any) -> str:
    if isinstance(value, Mapping) and value.get("shape") == "derived":
        return "derived"
    return "stored"


MetricField = Annotated[
    Annotated[StoredMetricInput, Tag("stored")] | Annotated[DerivedMetricInput, Tag("derived")],
    Discriminator(_shape_of),
]
