"""A platform's connector configuration, as the reference Airbyte source names its fields,
turned into the one settings model (`config.Settings`).

| field (platform config) | setting |
| --- | --- |
| `access_token` (secret) | `intercom.access_token` |
| `start_date` | `intercom.start_date` |
| `lookback_window` (days) | `intercom.lookback_days` |
| `activity_logs_time_step` (days) | `intercom.activity_logs_slice_days` |
| `num_workers` | `intercom.num_workers` |
| `api_rate_limit` (requests per minute) | `intercom.api_rate_limit` |
| `region`, `api_version`, `base_url` | the same `intercom.*` keys |

Nothing is read from the environment or an `intercom-sync.toml`: a platform hands over
everything in its config, and a problem is reported with the field's name as the
platform's user typed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from intercom_sync.config import ConfigError, IntercomSettings, Settings

# Platform field -> IntercomSettings field.
FIELDS: dict[str, str] = {
    "access_token": "access_token",
    "start_date": "start_date",
    "lookback_window": "lookback_days",
    "activity_logs_time_step": "activity_logs_slice_days",
    "num_workers": "num_workers",
    "api_rate_limit": "api_rate_limit",
    "region": "region",
    "api_version": "api_version",
    "base_url": "base_url",
}
_PLATFORM_NAME = {setting: field for field, setting in FIELDS.items()}


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """Settings from a platform's config. Raises `ConfigError` naming the platform's field
    (an unknown field is refused: a typo must not fall back to a default)."""
    unknown = sorted(set(config) - set(FIELDS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown field; valid fields: {', '.join(FIELDS)}")
    token = config.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise ConfigError("access_token", "required: an Intercom access token")
    values = {FIELDS[k]: v for k, v in config.items() if v is not None}
    # Memberships have no incremental mode on a platform: each read scans them whole.
    values["membership_refresh"] = "every run"
    try:
        return Settings(intercom=IntercomSettings(**values))
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        setting = str(first["loc"][0]) if first["loc"] else ""
        problem = str((first.get("ctx") or {}).get("error") or first["msg"])
        raise ConfigError(_PLATFORM_NAME.get(setting, setting) or None, problem) from None
