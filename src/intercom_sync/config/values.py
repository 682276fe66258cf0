"""What each key accepts: a raw value (TOML, an environment string, a flag) → the typed one.

Every parser raises `ValueError` whose text is the problem as the user reads it,
`must be … (got …)`; loading adds the key and where the value came from. These are
the product's rules (no bools for numbers, whole numbers only where a count is meant,
durations as "6h"), which pydantic's lax coercion would blur, so each field names its
parser with `BeforeValidator`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, SecretStr

REGION_HOSTS: dict[str, str] = {
    "us": "api.intercom.io",
    "eu": "api.eu.intercom.io",
    "au": "api.au.intercom.io",
}
API_VERSIONS: tuple[str, ...] = ("2.11", "2.12", "2.13", "2.14")
# The most requests in flight: the range of `num_workers`, and the ceiling of "auto".
MAX_WORKERS = 64
EVERY_RUN = "every run"

_WHOLE = re.compile(r"\s*-?\d+\s*")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
TOKEN_SPEC_PROBLEM = 'must be { env = "NAME" } (recommended) or a string'  # noqa: S105


def got(value: object) -> str:
    """A value as quoted in a message, cut short."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def _as_int(value: object) -> int | None:
    """An int from an int, an integral float, or a string of digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    return None


def _whole(value: object, low: int, high: int | None, what: str) -> int:
    parsed = _as_int(value)
    if parsed is None or parsed < low or (high is not None and parsed > high):
        raise ValueError(f"must be {what} (got {got(value)})")
    return parsed


def whole_number(low: int, high: int | None, what: str) -> BeforeValidator:
    """A whole number from `low` to `high` (None: no upper bound), described as `what`."""
    return BeforeValidator(lambda value: _whole(value, low, high, what))


def number(low: float, high: float, what: str) -> BeforeValidator:
    """A number from `low` to `high`, described as `what`."""

    def parse(value: object) -> float:
        parsed: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            parsed = float(value)
        elif isinstance(value, str):
            try:
                parsed = float(value)
            except ValueError:
                parsed = None
        if parsed is None or not (low <= parsed <= high):
            raise ValueError(f"must be {what} (got {got(value)})")
        return parsed

    return BeforeValidator(parse)


def parse_region(value: object) -> str:
    region = value.strip().lower() if isinstance(value, str) else value
    if region not in REGION_HOSTS:
        raise ValueError(f"must be one of {', '.join(REGION_HOSTS)} (got {got(value)})")
    return str(region)


def parse_api_version(value: object) -> str:
    # An unquoted `api_version = 2.11` arrives from TOML as a float.
    text = str(value).strip() if isinstance(value, str | float) else None
    if text not in API_VERSIONS:
        raise ValueError(f"must be one of {', '.join(API_VERSIONS)} (got {got(value)})")
    return text


def parse_base_url(value: object) -> str:
    problem = f"must be an http(s) URL such as http://127.0.0.1:8000 (got {got(value)})"
    if not isinstance(value, str):
        raise ValueError(problem)
    url = value.strip().rstrip("/")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(problem)
    return url


def parse_start_date(value: object) -> datetime:
    problem = f"must be an ISO-8601 UTC time such as 2020-01-01T00:00:00Z (got {got(value)})"
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(problem) from None
    else:
        raise ValueError(problem)
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed > datetime.now(UTC):
        # Nothing is updated after "now", so such a sync would quietly copy nothing.
        shown = parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
        raise ValueError(
            f"is in the future ({shown}): records updated before it are not synced, so a "
            "sync would copy nothing; use a past time such as 2020-01-01T00:00:00Z"
        )
    return parsed


def parse_resources(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValueError(f"must be a list of stream names (got {got(value)})")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"must be a list of stream names (got {got(item)} in the list)")
        name = item.strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def parse_workers(value: object) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _whole(value, 1, MAX_WORKERS, f"'auto' or a whole number from 1 to {MAX_WORKERS}")


def parse_refresh(value: object) -> float:
    """`"every run"` (0) or a duration such as `"30m"`, `"6h"`, `"1d"`, in seconds."""
    if isinstance(value, str) and value.strip().lower() in (EVERY_RUN, "always", "0"):
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f'must be "every run" or a duration such as "30m", "6h", "1d" (got {got(value)})'
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_store_url(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
        return text
    if text.startswith(("postgresql://", "postgres://")) and urlsplit(text).hostname:
        return text
    shown = got(redact_url(value)) if isinstance(value, str) else got(value)
    raise ValueError(f"must be sqlite:///<path> or postgresql://user@host/db (got {shown})")


def parse_dashboards(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be a table of dashboards, [dashboards.<id>]")
    return dict(value)


def token_env_name(spec: Mapping[str, Any]) -> str:
    """The variable named by `{ env = "NAME" }`, or ValueError."""
    name = spec.get("env")
    if set(spec) != {"env"} or not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ValueError('must be { env = "NAME" } with the name of an environment variable')
    return name


def resolve_token(spec: object, environ: Mapping[str, str]) -> tuple[SecretStr | None, str | None]:
    """(token, the variable it was read from) for a literal or `{ env = NAME }`.

    Never echoes the value: a bad spec is reported by its shape alone."""
    if spec is None or isinstance(spec, SecretStr):
        return spec, None
    if isinstance(spec, str):
        return (SecretStr(spec.strip()) if spec.strip() else None), None
    if isinstance(spec, Mapping):
        name = token_env_name(spec)
        found = environ.get(name, "").strip()
        return (SecretStr(found) if found else None), name
    raise ValueError(TOKEN_SPEC_PROBLEM)


def parse_token(value: object) -> SecretStr | None:
    """The token field built in Python: a literal, or `{ env = NAME }` read from os.environ."""
    return resolve_token(value, os.environ)[0]


def redact_url(url: str) -> str:
    """The URL with any password replaced by `***` (store URLs may carry one)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
