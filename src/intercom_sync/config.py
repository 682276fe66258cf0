"""Settings (DESIGN §3.2): one validated model from defaults, file, environment and flags.

Later sources win: built-in defaults < `intercom-sync.toml` < environment
(`INTERCOM_SYNC_<KEY>`, e.g. `INTERCOM_SYNC_API_VERSION`; `INTERCOM_SYNC_STORE_URL`)
< explicit overrides from the command line. Every problem is a `ConfigError`
whose one-line message names the key, the problem and where the bad value came
from; unknown keys are errors, so a typo never silently falls back to a default.

The access token is a secret. The file says where to find it
(`access_token = { env = "NAME" }`, by default `INTERCOM_ACCESS_TOKEN`); a literal
string works but is discouraged. It is held as `pydantic.SecretStr`, so it never
shows in `repr`, `str` or error messages.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

logger = logging.getLogger("intercom_sync.config")

CONFIG_FILENAME = "intercom-sync.toml"
ENV_PREFIX = "INTERCOM_SYNC_"
DEFAULT_TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a token
REGION_HOSTS: dict[str, str] = {
    "us": "api.intercom.io",
    "eu": "api.eu.intercom.io",
    "au": "api.au.intercom.io",
}
API_VERSIONS: tuple[str, ...] = ("2.11", "2.12", "2.13", "2.14")
MAX_WORKERS = 64
DEFAULT_START_DATE = datetime(2020, 1, 1, tzinfo=UTC)
# Intercom's search index trails writes, usually by seconds but at times by
# minutes. The engine never moves a cursor closer than this to the sync's
# start, and re-reads that much at the next run. Ten minutes of re-reading
# costs a page or two; missing a late-indexed record costs correctness.
DEFAULT_SEARCH_LAG_SECONDS = 600.0
# How often contact segment and tag memberships are scanned (see README, Memberships).
DEFAULT_MEMBERSHIP_REFRESH = "1h"
DEFAULT_MEMBERSHIP_REFRESH_SECONDS = 3_600.0
_WHOLE = re.compile(r"\s*-?\d+\s*")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(Exception):
    """A configuration problem, as one line: `<key>: <problem>[ — set <where>]`.

    `source` is a phrase saying where the value came from: "in ./intercom-sync.toml",
    "by environment variable INTERCOM_SYNC_…" or "on the command line".
    """

    def __init__(self, key: str | None, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        text = f"{key}: {problem}" if key else problem
        super().__init__(f"{text} — set {source}" if source else text)


# -- value parsers: raw (TOML, env string, flag) → typed value, or ValueError ------


def _got(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def _whole_number(value: object, low: int, high: int | None, what: str) -> int:
    number = _as_int(value)
    if number is None or number < low or (high is not None and number > high):
        raise ValueError(f"must be {what} (got {_got(value)})")
    return number


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


def _number(value: object, low: float, high: float, what: str) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not (low <= number <= high):
        raise ValueError(f"must be {what} (got {_got(value)})")
    return number


def _parse_start_date(value: object) -> datetime:
    problem = f"must be an ISO-8601 UTC time such as 2020-01-01T00:00:00Z (got {_got(value)})"
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


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
EVERY_RUN = "every run"


def parse_refresh(value: object) -> float:
    """`"every run"` (0) or a duration such as `"30m"`, `"6h"`, `"1d"`, in seconds."""
    if isinstance(value, str) and value.strip().lower() in (EVERY_RUN, "always", "0"):
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f'must be "every run" or a duration such as "30m", "6h", "1d" (got {_got(value)})'
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _parse_resources(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValueError(f"must be a list of stream names (got {_got(value)})")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"must be a list of stream names (got {_got(item)} in the list)")
        name = item.strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _parse_token(value: object) -> SecretStr | None:
    """A literal or `{env = NAME}` (read from os.environ). Never echoes the value."""
    if value is None or isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value.strip()) if value.strip() else None
    if isinstance(value, Mapping):
        name = _token_env_name(value)
        found = os.environ.get(name, "").strip()
        return SecretStr(found) if found else None
    raise ValueError('must be { env = "NAME" } (recommended) or a string')


def _token_env_name(spec: Mapping[str, Any]) -> str:
    name = spec.get("env")
    if set(spec) != {"env"} or not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ValueError('must be { env = "NAME" } with the name of an environment variable')
    return name


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


# -- the model -------------------------------------------------------------------


class IntercomSettings(BaseModel):
    """The `[intercom]` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr | None = None
    # Where the token was looked up (for messages); None for a literal token.
    access_token_env: str | None = DEFAULT_TOKEN_ENV
    region: Literal["us", "eu", "au"] = "us"
    api_version: str = "2.11"
    base_url: str = ""
    start_date: datetime = DEFAULT_START_DATE
    lookback_days: int = 0
    resources: tuple[str, ...] = ()
    num_workers: int | Literal["auto"] = "auto"
    api_rate_limit: int = 9500
    activity_logs_slice_days: int = 30
    search_lag_seconds: float = DEFAULT_SEARCH_LAG_SECONDS
    membership_refresh: float = DEFAULT_MEMBERSHIP_REFRESH_SECONDS
    request_timeout_seconds: float = 60.0
    max_attempts: int = 8

    @field_validator("access_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> SecretStr | None:
        return _parse_token(value)

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: object) -> str:
        region = value.strip().lower() if isinstance(value, str) else value
        if region not in REGION_HOSTS:
            raise ValueError(f"must be one of {', '.join(REGION_HOSTS)} (got {_got(value)})")
        return str(region)

    @field_validator("api_version", mode="before")
    @classmethod
    def _api_version(cls, value: object) -> str:
        # An unquoted `api_version = 2.11` arrives from TOML as a float.
        text = str(value).strip() if isinstance(value, str | float) else None
        if text not in API_VERSIONS:
            raise ValueError(f"must be one of {', '.join(API_VERSIONS)} (got {_got(value)})")
        return text

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: object) -> str:
        problem = f"must be an http(s) URL such as http://127.0.0.1:8000 (got {_got(value)})"
        if not isinstance(value, str):
            raise ValueError(problem)
        url = value.strip().rstrip("/")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(problem)
        return url

    @field_validator("start_date", mode="before")
    @classmethod
    def _start_date(cls, value: object) -> datetime:
        return _parse_start_date(value)

    @field_validator("lookback_days", mode="before")
    @classmethod
    def _lookback(cls, value: object) -> int:
        return _whole_number(value, 0, None, "a whole number of days, 0 or more")

    @field_validator("resources", mode="before")
    @classmethod
    def _resources(cls, value: object) -> tuple[str, ...]:
        return _parse_resources(value)

    @field_validator("num_workers", mode="before")
    @classmethod
    def _num_workers(cls, value: object) -> int | str:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        what = f"'auto' or a whole number from 1 to {MAX_WORKERS}"
        return _whole_number(value, 1, MAX_WORKERS, what)

    @field_validator("api_rate_limit", mode="before")
    @classmethod
    def _rate_limit(cls, value: object) -> int:
        return _whole_number(value, 1, None, "a whole number of requests per minute, at least 1")

    @field_validator("activity_logs_slice_days", mode="before")
    @classmethod
    def _slice_days(cls, value: object) -> int:
        return _whole_number(value, 1, None, "a whole number of days, at least 1")

    @field_validator("search_lag_seconds", mode="before")
    @classmethod
    def _search_lag(cls, value: object) -> float:
        return _number(value, 0, 86_400, "a number of seconds from 0 to 86400")

    @field_validator("membership_refresh", mode="before")
    @classmethod
    def _membership_refresh(cls, value: object) -> float:
        return parse_refresh(value)

    @field_validator("request_timeout_seconds", mode="before")
    @classmethod
    def _timeout(cls, value: object) -> float:
        return _number(value, 0.1, 3_600, "a number of seconds from 0.1 to 3600")

    @field_validator("max_attempts", mode="before")
    @classmethod
    def _max_attempts(cls, value: object) -> int:
        return _whole_number(value, 1, 100, "a whole number from 1 to 100")


class StoreSettings(BaseModel):
    """The `[store]` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = "sqlite:///intercom.db"

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: object) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
            return text
        if text.startswith(("postgresql://", "postgres://")) and urlsplit(text).hostname:
            return text
        shown = _got(redact_url(value)) if isinstance(value, str) else _got(value)
        raise ValueError(f"must be sqlite:///<path> or postgresql://user@host/db (got {shown})")

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        yield "url", self.redacted_url


class Settings(BaseModel):
    """Everything configurable. Build it with `load_settings`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intercom: IntercomSettings = IntercomSettings()
    store: StoreSettings = StoreSettings()
    config_file: Path | None = None

    def api_host(self) -> str:
        """The API base URL: `base_url` if set, else the region's host."""
        if self.intercom.base_url:
            return self.intercom.base_url
        return f"https://{REGION_HOSTS[self.intercom.region]}"

    @property
    def start_timestamp(self) -> int:
        """`start_date` as Unix seconds."""
        return int(self.intercom.start_date.timestamp())

    def require_token(self) -> SecretStr:
        """The access token, or a ConfigError that says how to provide one."""
        token = self.intercom.access_token
        if token is not None and token.get_secret_value():
            return token
        name = self.intercom.access_token_env or DEFAULT_TOKEN_ENV
        raise ConfigError(
            "intercom.access_token",
            f"no access token: the environment variable {name} is not set; export it, "
            'or point access_token = { env = "NAME" } at the variable that holds it',
        )

    def validate_resources(self, valid: Sequence[str]) -> tuple[str, ...]:
        """The streams to sync: `resources` checked against `valid`, or all of them."""
        chosen = self.intercom.resources
        if not chosen:
            return tuple(valid)
        unknown = [name for name in chosen if name not in valid]
        if not unknown:
            return chosen
        names = ", ".join(f"'{name}'" for name in unknown)
        hints = [_did_you_mean(name, valid) for name in unknown]
        hint = "".join(h for h in hints if h) if len(unknown) == 1 else ""
        noun = "stream" if len(unknown) == 1 else "streams"
        problem = f"unknown {noun} {names}{hint}; valid streams: {', '.join(valid)}"
        raise ConfigError("intercom.resources", problem)


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- the keys, their environment variables and their documentation -----------------


@dataclass(frozen=True)
class _Key:
    section: str
    name: str
    default: str  # as written in the starter file
    doc: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        suffix = self.name if self.section == "intercom" else f"{self.section}_{self.name}"
        return ENV_PREFIX + suffix.upper()


_KEYS: tuple[_Key, ...] = (
    _Key(
        "intercom",
        "access_token",
        f'{{ env = "{DEFAULT_TOKEN_ENV}" }}',
        "Where to read the access token: an environment variable (recommended).\n"
        "A literal string works too, but then the file holds a secret.",
    ),
    _Key("intercom", "region", '"us"', "Your workspace's region: us | eu | au."),
    _Key("intercom", "api_version", '"2.11"', "Intercom-Version header: 2.11 to 2.14."),
    _Key(
        "intercom",
        "base_url",
        '""',
        "Overrides region, e.g. a proxy or the simulator (http://127.0.0.1:8000).",
    ),
    _Key(
        "intercom",
        "start_date",
        '"2020-01-01T00:00:00Z"',
        "Records updated before this (ISO-8601, UTC) are not synced.",
    ),
    _Key(
        "intercom",
        "lookback_days",
        "0",
        "Extra days each incremental sync re-reads behind its cursor.",
    ),
    _Key("intercom", "resources", "[]", 'Streams to sync, e.g. ["admins", "contacts"]; [] = all.'),
    _Key(
        "intercom",
        "num_workers",
        '"auto"',
        'Requests in flight: "auto" sizes it from latency, or 1 to 64.',
    ),
    _Key(
        "intercom",
        "api_rate_limit",
        "9500",
        "Requests per minute this tool may use (Intercom allows 10,000 per app).",
    ),
    _Key(
        "intercom",
        "activity_logs_slice_days",
        "30",
        "Activity logs are read in time slices of this many days.",
    ),
    _Key(
        "intercom",
        "search_lag_seconds",
        str(int(DEFAULT_SEARCH_LAG_SECONDS)),
        "Intercom's search index trails writes; cursors stay this many seconds\n"
        "behind the sync's start and each run re-reads that margin.",
    ),
    _Key(
        "intercom",
        "membership_refresh",
        f'"{DEFAULT_MEMBERSHIP_REFRESH}"',
        "How often to re-scan which contacts each segment and tag holds:\n"
        '"every run", or a duration such as "30m", "6h", "1d". A scan costs about\n'
        "(segment and tag memberships) / 150 requests; a full sync always scans.",
    ),
    _Key("intercom", "request_timeout_seconds", "60", "Give up on one request after this long."),
    _Key(
        "intercom",
        "max_attempts",
        "8",
        "Attempts per request on 5xx, timeouts and resets before a stream fails.",
    ),
    _Key("store", "url", '"sqlite:///intercom.db"', "sqlite:///<path> or postgresql://…"),
)
_BY_DOTTED = {key.dotted: key for key in _KEYS}
_SECTIONS = ("intercom", "store")
# Sections of the same file read by the metrics model (`intercom-sync serve`/`query`).
_OTHER_SECTIONS = ("dashboards",)
_COMMAND_LINE = "on the command line"


def starter_toml() -> str:
    """A commented `intercom-sync.toml` with every key at its default."""
    lines = [
        "# intercom-sync configuration.",
        "# Each key can also be set with an environment variable INTERCOM_SYNC_<KEY>",
        "# (e.g. INTERCOM_SYNC_API_VERSION, INTERCOM_SYNC_STORE_URL) or a command-line",
        "# flag; flags win over the environment, which wins over this file.",
    ]
    for section in _SECTIONS:
        lines += ["", f"[{section}]"]
        for key in (k for k in _KEYS if k.section == section):
            lines += [f"# {line}" for line in key.doc.splitlines()]
            lines.append(f"{key.name} = {key.default}")
    return "\n".join(lines) + "\n"


# -- loading -----------------------------------------------------------------------


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Settings:
    """Defaults < file (`path`, or ./intercom-sync.toml if present) < env < overrides.

    `overrides` keys are `section.key`, a bare `[intercom]` key, or `store_url`;
    None values are ignored (a flag that was not given).
    """
    environ = os.environ if env is None else env
    file = _config_path(path, cwd)
    layers: dict[str, tuple[Any, str]] = {}  # dotted key → (raw value, source)
    if file is not None:
        for dotted, value in _read_file(file).items():
            layers[dotted] = (value, f"in {file}")
    for key in _KEYS:
        raw = environ.get(key.env, "")
        if raw.strip():
            layers[key.dotted] = (raw, f"by environment variable {key.env}")
    for dotted, value in _normalise_overrides(overrides or {}).items():
        layers[dotted] = (value, _COMMAND_LINE)
    return _build(layers, environ, file)


def _config_path(
    path: str | os.PathLike[str] | None, cwd: str | os.PathLike[str] | None
) -> Path | None:
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(None, f"config file {file} not found")
        return file
    default = Path(cwd or ".") / CONFIG_FILENAME
    return default if default.is_file() else None


def _read_file(file: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(None, f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(None, f"{file}: cannot be read: {exc}") from None
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section in _OTHER_SECTIONS:
            continue
        if section not in _SECTIONS or not isinstance(table, dict):
            known = (*_SECTIONS, *_OTHER_SECTIONS)
            hint = _did_you_mean(section, known)
            valid = ", ".join(f"[{name}]" for name in known)
            raise ConfigError(section, f"unknown section{hint}; valid: {valid}", f"in {file}")
        for name, value in table.items():
            values[_known_key(f"{section}.{name}", f"in {file}")] = value
    return values


def _known_key(dotted: str, source: str) -> str:
    if dotted in _BY_DOTTED:
        return dotted
    section, _, name = dotted.partition(".")
    names = [k.name for k in _KEYS if k.section == section]
    hint = _did_you_mean(name, names)
    raise ConfigError(dotted, f"unknown key{hint}; valid keys: {', '.join(names)}", source)


def _normalise_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        if name == "store_url":
            dotted = "store.url"
        elif "." in name:
            dotted = name
        else:
            dotted = f"intercom.{name}"
        result[_known_key(dotted, _COMMAND_LINE)] = value
    return result


def _build(
    layers: dict[str, tuple[Any, str]], environ: Mapping[str, str], file: Path | None
) -> Settings:
    sections: dict[str, dict[str, Any]] = {"intercom": {}, "store": {}}
    for dotted, (value, _source) in layers.items():
        section, _, name = dotted.partition(".")
        sections[section][name] = value
    token_spec, token_source = layers.get("intercom.access_token", (None, None))
    token, token_env = _resolve_token(token_spec, token_source, environ)
    sections["intercom"]["access_token"] = token
    sections["intercom"]["access_token_env"] = token_env
    try:
        return Settings.model_validate({**sections, "config_file": file})
    except ValidationError as exc:
        raise _config_error(exc, layers) from None


def _resolve_token(
    spec: object, source: str | None, environ: Mapping[str, str]
) -> tuple[SecretStr | None, str | None]:
    """(token, env var it came from) for a literal, `{env = NAME}`, or the default."""
    if spec is None:
        spec = {"env": DEFAULT_TOKEN_ENV}
    if isinstance(spec, Mapping):
        try:
            name = _token_env_name(spec)
        except ValueError as exc:
            raise ConfigError("intercom.access_token", str(exc), source) from None
        value = environ.get(name, "").strip()
        return (SecretStr(value) if value else None), name
    if isinstance(spec, str):
        if source is not None and source.startswith("in "):
            logger.warning(
                "intercom.access_token is written %s; prefer "
                'access_token = { env = "%s" } so the file holds no secret',
                source,
                DEFAULT_TOKEN_ENV,
            )
        return (SecretStr(spec.strip()) if spec.strip() else None), None
    raise ConfigError(
        "intercom.access_token", 'must be { env = "NAME" } (recommended) or a string', source
    )


def _config_error(exc: ValidationError, layers: Mapping[str, tuple[Any, str]]) -> ConfigError:
    """The first validation problem as a ConfigError, without echoing pydantic's input."""
    first = exc.errors(include_url=False, include_input=False)[0]
    dotted = ".".join(str(part) for part in first["loc"])
    context_error = (first.get("ctx") or {}).get("error")
    problem = str(context_error) if context_error is not None else first["msg"]
    source = layers.get(dotted, (None, None))[1]
    return ConfigError(dotted, problem, source)
