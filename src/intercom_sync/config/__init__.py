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

* `model`: the keys — type, default and description, each once;
* `values`: what each key accepts, and the messages when it does not;
* `sources`: where values come from and which wins (`load_settings`);
* `starter`: the commented `intercom-sync.toml` that `init` writes, printed from the model.
"""

from intercom_sync.config.errors import ConfigError
from intercom_sync.config.model import (
    DEFAULT_TOKEN_ENV,
    IntercomSettings,
    Settings,
    StoreSettings,
)
from intercom_sync.config.sources import (
    CONFIG_FILENAME,
    ENV_PREFIX,
    env_var,
    find_config_file,
    load_settings,
)
from intercom_sync.config.starter import starter_toml
from intercom_sync.config.values import (
    API_VERSIONS,
    MAX_WORKERS,
    REGION_HOSTS,
    parse_refresh,
    redact_url,
)

__all__ = [
    "API_VERSIONS",
    "CONFIG_FILENAME",
    "DEFAULT_TOKEN_ENV",
    "ENV_PREFIX",
    "MAX_WORKERS",
    "REGION_HOSTS",
    "ConfigError",
    "IntercomSettings",
    "Settings",
    "StoreSettings",
    "env_var",
    "find_config_file",
    "load_settings",
    "parse_refresh",
    "redact_url",
    "starter_toml",
]
