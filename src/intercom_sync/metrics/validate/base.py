"""What every definition model shares: the error a user sees and how a check words it.

A check fails with `invalid(detail)`: pydantic carries `detail` unchanged to the one
place (`dashboards.compile_dashboards`) that turns the first failure into a
`DefinitionError` naming its dashboard and widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from intercom_sync.store.sql import IDENTIFIER

# The pydantic error type of every check written here.
DEFINITION = "definition"


class DefinitionError(ValueError):
    """A dashboard definition that cannot be evaluated; says where and what."""

    def __init__(self, dashboard: str, widget: str | None, detail: str) -> None:
        self.dashboard = dashboard
        self.widget = widget
        self.detail = detail
        where = f"dashboard {dashboard!r}" + (f", widget {widget!r}" if widget else "")
        super().__init__(f"{where}: {detail}")


def invalid(detail: str) -> PydanticCustomError:
    """A failed check whose message is `detail`, word for word."""
    return PydanticCustomError(DEFINITION, "{detail}", {"detail": detail})


def choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def explained(message: Callable[[Any], str]) -> WrapValidator:
    """Say `message(value)` instead of pydantic's wording when a scalar fails its type."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise invalid(message(value)) from None

    return WrapValidator(wrap)


def checked_identifier(value: Any, what: str) -> str:
    """A name that may end up in SQL or a URL: letters, digits and _ only."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise invalid(f"bad {what} {value!r} (letters, digits and _ only)")
    return value


def identifier(what: str) -> BeforeValidator:
    return BeforeValidator(lambda value: checked_identifier(value, what))


# Titles, units and labels: whatever was given, as text (a TOML number included).
Text = Annotated[str, BeforeValidator(str)]


def first_unknown(data: Mapping[Any, Any], known: Iterable[str]) -> str | None:
    """The first key (in sorted order) of `data` that is not among `known`."""
    accepted = set(known)
    unknown = sorted(str(k) for k in data if k not in accepted)
    return unknown[0] if unknown else None


class Definition(BaseModel):
    """A table of settings. `refusal` says why some input is not one of these tables (not
    a table, an unknown key …) before any of its fields is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def accepted_keys(cls) -> list[str]:
        """The keys the table takes: field names, or their aliases when they have some."""
        out: list[str] = []
        for name, info in cls.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                out += [c for c in alias.choices if isinstance(c, str)]
            else:
                out.append(alias if isinstance(alias, str) else name)
        return out

    @classmethod
    def refusal(cls, data: Any) -> str | None:
        return None

    @model_validator(mode="before")
    @classmethod
    def _acceptable(cls, data: Any) -> Any:
        problem = cls.refusal(data)
        if problem is not None:
            raise invalid(problem)
        return data
