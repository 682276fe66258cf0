"""The settings model: every key once, with its type, its default and its description.

The default is written as a user would write it in `intercom-sync.toml` and goes
through the same parser as their value (`validate_default`), so the starter file
(`config.starter`) is these fields printed, and reads back to exactly these defaults.
Built directly (`Settings(...)`), the model holds what it is given and nothing else;
`config.sources.load_settings` layers the file, the environment and the flags over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from intercom_sync.config.errors import ConfigError, did_you_mean
from intercom_sync.config.values import (
    API_VERSIONS,
    EVERY_RUN,
    MAX_WORKERS,
    REGION_HOSTS,
    number,
    parse_api_version,
    parse_base_url,
    parse_dashboards,
    parse_refresh,
    parse_region,
    parse_resources,
    parse_start_date,
    parse_store_url,
    parse_token,
    parse_workers,
    redact_url,
    whole_number,
)

DEFAULT_TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a token
# Set by loading from what it read; never a key of the file, the environment or a flag.
FILLED_IN = frozenset({"config_file", "intercom.access_token_env"})


def written(value: object) -> Any:
    """A default as a user writes it; the field's parser types it (`validate_default`)."""
    return value


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class IntercomSettings(_Section):
    """The `[intercom]` section."""

    access_token: Annotated[SecretStr | None, BeforeValidator(parse_token)] = Field(
        default=written({"env": DEFAULT_TOKEN_ENV}),
        description="Where to read the access token: an environment variable (recommended).\n"
        "A literal string works too, but then the file holds a secret.",
    )
    region: Annotated[Literal["us", "eu", "au"], BeforeValidator(parse_region)] = Field(
        default="us", description=f"Your workspace's region: {' | '.join(REGION_HOSTS)}."
    )
    api_version: Annotated[str, BeforeValidator(parse_api_version)] = Field(
        default=API_VERSIONS[0],
        description=f"Intercom-Version header: {API_VERSIONS[0]} to {API_VERSIONS[-1]}.",
    )
    base_url: Annotated[str, BeforeValidator(parse_base_url)] = Field(
        default="",
        description="Overrides region, e.g. a proxy or the simulator (http://127.0.0.1:8000).",
    )
    start_date: Annotated[datetime, BeforeValidator(parse_start_date)] = Field(
        default=written("2020-01-01T00:00:00Z"),
        description="Records updated before this (ISO-8601, UTC) are not synced.",
    )
    lookback_days: Annotated[int, whole_number(0, None, "a whole number of days, 0 or more")] = (
        Field(default=0, description="Extra days each incremental sync re-reads behind its cursor.")
    )
    resources: Annotated[tuple[str, ...], BeforeValidator(parse_resources)] = Field(
        default=(), description='Streams to sync, e.g. ["admins", "contacts"]; [] = all.'
    )
    num_workers: Annotated[int | Literal["auto"], BeforeValidator(parse_workers)] = Field(
        default="auto",
        description=f'Requests in flight: "auto" sizes it from latency, or 1 to {MAX_WORKERS}.',
    )
    api_rate_limit: Annotated[
        int, whole_number(1, None, "a whole number of requests per minute, at least 1")
    ] = Field(
        default=9500,
        description="Requests per minute this tool may use (Intercom allows 10,000 per app).",
    )
    activity_logs_slice_days: Annotated[
        int, whole_number(1, None, "a whole number of days, at least 1")
    ] = Field(default=30, description="Activity logs are read in time slices of this many days.")
    # Intercom's search index trails writes, usually by seconds but at times by minutes.
    # Ten minutes of re-reading costs a page or two; missing a late-indexed record costs
    # correctness.
    search_lag_seconds: Annotated[
        float, number(0, 86_400, "a number of seconds from 0 to 86400")
    ] = Field(
        default=600,
        description="Intercom's search index trails writes; cursors stay this many seconds\n"
        "behind the sync's start and each run re-reads that margin.",
    )
    # How often contact segment and tag memberships are scanned (see README, Memberships).
    membership_refresh: Annotated[float, BeforeValidator(parse_refresh)] = Field(
        default=written("1h"),
        description="How often to re-scan which contacts each segment and tag holds:\n"
        f'"{EVERY_RUN}", or a duration such as "30m", "6h", "1d". A scan costs about\n'
        "(segment and tag memberships) / 150 requests; a full sync always scans.",
    )
    request_timeout_seconds: Annotated[
        float, number(0.1, 3_600, "a number of seconds from 0.1 to 3600")
    ] = Field(default=60, description="Give up on one request after this long.")
    max_attempts: Annotated[int, whole_number(1, 100, "a whole number from 1 to 100")] = Field(
        default=8,
        description="Attempts per request on 5xx, timeouts and resets before a stream fails.",
    )
    access_token_env: str | None = Field(
        default=DEFAULT_TOKEN_ENV,
        description="Filled in by loading, not a key: the variable the token was read from.",
    )


class StoreSettings(_Section):
    """The `[store]` section."""

    url: Annotated[str, BeforeValidator(parse_store_url)] = Field(
        default="sqlite:///intercom.db", description="sqlite:///<path> or postgresql://…"
    )

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        yield "url", self.redacted_url


class Settings(BaseSettings):
    """Everything configurable. `load_settings` builds it from the file, the environment
    and the flags; built directly it holds just its arguments over the defaults."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    intercom: IntercomSettings = Field(default_factory=IntercomSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    # The metrics layer compiles these (`serve`, `query`); here they are only carried.
    dashboards: Annotated[dict[str, Any], BeforeValidator(parse_dashboards)] = Field(
        default_factory=dict
    )
    config_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the arguments: reading the file and the environment is `load_settings`'s."""
        return (init_settings,)

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
        hints = [did_you_mean(name, valid) for name in unknown]
        hint = "".join(h for h in hints if h) if len(unknown) == 1 else ""
        noun = "stream" if len(unknown) == 1 else "streams"
        problem = f"unknown {noun} {names}{hint}; valid streams: {', '.join(valid)}"
        raise ConfigError("intercom.resources", problem)


def sections() -> dict[str, type[BaseModel]]:
    """The file's sections of keys, by name, in order: `[intercom]`, `[store]`."""
    found: dict[str, type[BaseModel]] = {}
    for name, field in Settings.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, _Section):
            found[name] = field.annotation
    return found


def tables() -> tuple[str, ...]:
    """Every table the file may hold: the sections of keys, then `[dashboards]`."""
    return tuple(name for name in Settings.model_fields if name not in FILLED_IN)


def keys(section: str) -> tuple[str, ...]:
    """The keys a user may set in `section` (empty for an unknown one)."""
    model = sections().get(section)
    if model is None:
        return ()
    return tuple(name for name in model.model_fields if f"{section}.{name}" not in FILLED_IN)
