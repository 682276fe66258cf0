"""Where settings come from, and which wins: flags > environment > file > defaults.

Each place is a pydantic-settings source; `Settings` merges them and validates once.
Ours differ from the stock ones only where our naming asks:

* the file is `intercom-sync.toml` (`--config PATH`, else `./intercom-sync.toml` if
  present), read by pydantic-settings' TOML source;
* the environment names `[intercom]` keys `INTERCOM_SYNC_<KEY>` (no section in the
  name) and the others `INTERCOM_SYNC_<SECTION>_<KEY>`, e.g. `INTERCOM_SYNC_STORE_URL`;
* flags arrive as `section.key`, a bare `[intercom]` key, or `store_url`; None means
  the flag was not given;
* the token: `access_token` says where the token is (`{ env = "NAME" }`, by default
  `INTERCOM_ACCESS_TOKEN`), and the value is read from there, never shown.

Every problem becomes one `ConfigError` line naming the key, the problem and the
source of the value that caused it; unknown keys and sections are errors, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import logging
import os
import tomllib
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

from intercom_sync.config.errors import ConfigError, did_you_mean
from intercom_sync.config.model import (
    DEFAULT_TOKEN_ENV,
    FILLED_IN,
    IntercomSettings,
    Settings,
    keys,
    sections,
    tables,
)
from intercom_sync.config.values import TOKEN_SPEC_PROBLEM, resolve_token

logger = logging.getLogger("intercom_sync.config")

CONFIG_FILENAME = "intercom-sync.toml"
ENV_PREFIX = "INTERCOM_SYNC_"
COMMAND_LINE = "on the command line"
_TOKEN = ("intercom", "access_token")


def env_var(section: str, key: str) -> str:
    """The environment variable for a key: INTERCOM_SYNC_API_VERSION, INTERCOM_SYNC_STORE_URL."""
    suffix = key if section == "intercom" else f"{section}_{key}"
    return ENV_PREFIX + suffix.upper()


def find_config_file(
    path: str | os.PathLike[str] | None, cwd: str | os.PathLike[str] | None = None
) -> Path | None:
    """The file to read: `path` (which must exist), else ./intercom-sync.toml if present."""
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(None, f"config file {file} not found")
        return file
    default = Path(cwd or ".") / CONFIG_FILENAME
    return default if default.is_file() else None


class _Layer(PydanticBaseSettingsSource):
    """A source a user writes to, which can say whether it holds a value and name where."""

    @abstractmethod
    def where(self, loc: Sequence[str]) -> str | None:
        """How a message names this source, if it holds a value at `loc`; else None."""

    @abstractmethod
    def value(self, loc: Sequence[str]) -> Any: ...


def _get(data: Mapping[str, Any], loc: Sequence[str]) -> tuple[bool, Any]:
    """(found, value) at the path `loc` of nested tables."""
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


class _Flags(InitSettingsSource, _Layer):
    """Command-line flags (or a caller's explicit overrides)."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        nested: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:  # a flag that was not given
                continue
            dotted = "store.url" if name == "store_url" else name
            section, _, key = dotted.rpartition(".")
            nested.setdefault(section or "intercom", {})[key] = value
        super().__init__(Settings, init_kwargs=nested)

    def where(self, loc: Sequence[str]) -> str | None:
        return COMMAND_LINE if _get(self.init_kwargs, loc)[0] else None

    def value(self, loc: Sequence[str]) -> Any:
        return _get(self.init_kwargs, loc)[1]


class _Environment(EnvSettingsSource, _Layer):
    """`INTERCOM_SYNC_*` variables of `environ`; an empty or blank one counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name: value for name, value in self._environ.items() if value.strip()}

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for section in sections():
            for key in keys(section):
                value = self.env_vars.get(env_var(section, key))
                if value is not None:
                    found.setdefault(section, {})[key] = value
        return found

    def where(self, loc: Sequence[str]) -> str | None:
        if len(loc) != 2 or loc[1] not in keys(loc[0]):
            return None
        name = env_var(loc[0], loc[1])
        return f"by environment variable {name}" if name in self.env_vars else None

    def value(self, loc: Sequence[str]) -> Any:
        return _get(self(), loc)[1]


class _File(TomlConfigSettingsSource, _Layer):
    """The TOML file, every table of it: `[dashboards]` rides along for the metrics layer."""

    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            super().__init__(Settings, toml_file=file)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(None, f"{file}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(None, f"{file}: cannot be read: {exc}") from None
        for section in sections():
            if not isinstance(self.toml_data.get(section, {}), dict):
                raise ConfigError(section, f"must be a table of keys, [{section}]", f"in {file}")

    def where(self, loc: Sequence[str]) -> str | None:
        return f"in {self.file}" if _get(self.toml_data, loc)[0] else None

    def value(self, loc: Sequence[str]) -> Any:
        return _get(self.toml_data, loc)[1]


def _origin(layers: Sequence[_Layer], loc: Sequence[str]) -> _Layer | None:
    """The layer whose value for `loc` wins: the first, in precedence order, to hold one."""
    return next((layer for layer in layers if layer.where(loc)), None)


def _filled_in(
    file: Path | None, layers: Sequence[_Layer], environ: Mapping[str, str]
) -> InitSettingsSource:
    """What loading fills in, above every layer: the file read, and the token, read from
    where the winning `access_token` points (by default the field's
    `{ env = "INTERCOM_ACCESS_TOKEN" }`)."""
    for dotted in FILLED_IN:
        loc = dotted.split(".")
        layer = _origin(layers, loc)
        if layer is not None:
            raise _unknown(loc, layer.where(loc))
    layer = _origin(layers, _TOKEN)
    spec = layer.value(_TOKEN) if layer else IntercomSettings.model_fields["access_token"].default
    where = layer.where(_TOKEN) if layer else None
    try:
        token, name = resolve_token(spec, environ)
    except ValueError as exc:
        raise ConfigError(".".join(_TOKEN), str(exc), where) from None
    if isinstance(layer, _File) and isinstance(spec, str):
        logger.warning(
            "intercom.access_token is written %s; prefer "
            'access_token = { env = "%s" } so the file holds no secret',
            where,
            DEFAULT_TOKEN_ENV,
        )
    filled = {"config_file": file, "intercom": {"access_token": token, "access_token_env": name}}
    return InitSettingsSource(Settings, init_kwargs=filled)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Settings:
    """Defaults < file (`path`, or ./intercom-sync.toml if present) < env < overrides.

    `env` stands in for `os.environ` (the token's variable is read from it too);
    `overrides` keys are `section.key`, a bare `[intercom]` key, or `store_url`.
    """
    environ = os.environ if env is None else env
    file = find_config_file(path, cwd)
    layers: list[_Layer] = [_Flags(overrides or {}), _Environment(environ)]  # the winner first
    if file is not None:
        layers.append(_File(file))
    sources = (_filled_in(file, layers, environ), *layers)
    # `_build_sources` is pydantic-settings' parameter for sources built by the caller; mypy
    # sees only the fields in the model's __init__.
    build: dict[str, Any] = {"_build_sources": (sources, {})}
    try:
        return Settings(**build)
    except ValidationError as exc:
        raise _config_error(exc, layers) from None


def _config_error(exc: ValidationError, layers: Sequence[_Layer]) -> ConfigError:
    """One validation problem as a ConfigError, without echoing pydantic's input. An
    unknown key comes first: a misspelt key is the likelier cause of what follows."""
    errors = exc.errors(include_url=False, include_input=False)
    first = min(errors, key=lambda error: error["type"] != "extra_forbidden")
    loc = [str(part) for part in first["loc"]]
    layer = _origin(layers, loc)
    where = layer.where(loc) if layer else None
    if first["type"] == "extra_forbidden":
        return _unknown(loc, where)
    context_error = (first.get("ctx") or {}).get("error")
    problem = str(context_error) if context_error is not None else first["msg"]
    if tuple(loc) == _TOKEN:
        problem = TOKEN_SPEC_PROBLEM  # never a message that could quote the value
    return ConfigError(".".join(loc), problem, where)


def _unknown(loc: Sequence[str], where: str | None) -> ConfigError:
    if len(loc) == 1:
        hint = did_you_mean(loc[0], tables())
        valid = ", ".join(f"[{name}]" for name in tables())
        return ConfigError(loc[0], f"unknown section{hint}; valid: {valid}", where)
    names = keys(loc[0])
    hint = did_you_mean(loc[-1], names)
    problem = f"unknown key{hint}; valid keys: {', '.join(names)}"
    return ConfigError(".".join(loc), problem, where)
