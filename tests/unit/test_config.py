"""Configuration: layering, validation messages by key, secrets, and the starter file."""

from __future__ import annotations

import logging
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intercom_sync.config import (
    ConfigError,
    IntercomSettings,
    Settings,
    load_settings,
    starter_toml,
)

TOKEN = "dG9rOmFiY2RlZjAxMjM0NTY3ODk="


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intercom-sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str | None = None, **kw: object) -> Settings:
    path = write(tmp_path, text) if text is not None else None
    kw.setdefault("env", {})
    return load_settings(path, cwd=tmp_path, **kw)  # type: ignore[arg-type]


def error_of(tmp_path: Path, text: str | None = None, **kw: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, **kw)
    return str(caught.value)


# -- defaults and hosts -------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.api_host() == "https://api.intercom.io"
    assert settings.intercom.api_version == "2.11"
    assert settings.intercom.num_workers == "auto"
    assert settings.intercom.api_rate_limit == 9500
    assert settings.intercom.start_date == datetime(2020, 1, 1, tzinfo=UTC)
    assert settings.start_timestamp == 1_577_836_800
    assert settings.intercom.search_lag_seconds == 600
    assert settings.store.url == "sqlite:///intercom.db"
    assert settings.intercom.access_token is None
    assert settings.config_file is None


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us", "https://api.intercom.io"),
        ("eu", "https://api.eu.intercom.io"),
        ("au", "https://api.au.intercom.io"),
        ("EU", "https://api.eu.intercom.io"),
    ],
)
def test_region_picks_the_host(tmp_path: Path, region: str, host: str) -> None:
    assert load(tmp_path, f'[intercom]\nregion = "{region}"\n').api_host() == host


def test_base_url_overrides_the_region(tmp_path: Path) -> None:
    text = '[intercom]\nregion = "eu"\nbase_url = "http://127.0.0.1:8765/"\n'
    assert load(tmp_path, text).api_host() == "http://127.0.0.1:8765"


# -- layering --------------------------------------------------------------------------------


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    text = '[intercom]\napi_version = "2.12"\nlookback_days = 3\napi_rate_limit = 500\n'
    env = {"INTERCOM_SYNC_API_VERSION": "2.13", "INTERCOM_SYNC_LOOKBACK_DAYS": "4"}
    settings = load(tmp_path, text, env=env, overrides={"api_version": "2.14"})
    assert settings.intercom.api_version == "2.14"  # override beats env beats file
    assert settings.intercom.lookback_days == 4  # env beats file
    assert settings.intercom.api_rate_limit == 500  # file beats default


def test_the_file_in_the_working_directory_is_found(tmp_path: Path) -> None:
    write(tmp_path, "[intercom]\nlookback_days = 2\n")
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.intercom.lookback_days == 2
    assert settings.config_file == tmp_path / "intercom-sync.toml"


def test_override_keys_may_be_dotted_bare_or_store_url(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        overrides={
            "intercom.num_workers": 7,
            "base_url": "http://localhost:9",
            "store_url": "sqlite:///x.db",
            "lookback_days": None,  # a flag that was not given
        },
    )
    assert settings.intercom.num_workers == 7
    assert settings.api_host() == "http://localhost:9"
    assert settings.store.url == "sqlite:///x.db"
    assert settings.intercom.lookback_days == 0


def test_environment_strings_are_parsed(tmp_path: Path) -> None:
    env = {
        "INTERCOM_SYNC_NUM_WORKERS": "16",
        "INTERCOM_SYNC_RESOURCES": "admins, contacts,,admins",
        "INTERCOM_SYNC_SEARCH_LAG_SECONDS": "90.5",
        "INTERCOM_SYNC_STORE_URL": "postgresql://sync@db.internal/intercom",
        "INTERCOM_SYNC_REGION": "",  # empty means unset
    }
    settings = load(tmp_path, env=env)
    assert settings.intercom.num_workers == 16
    assert settings.intercom.resources == ("admins", "contacts")
    assert settings.intercom.search_lag_seconds == 90.5
    assert settings.store.url == "postgresql://sync@db.internal/intercom"
    assert settings.intercom.region == "us"


# -- errors name the key, the problem and the source -------------------------------------------


def test_a_bad_worker_count_names_the_key_and_the_value(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[intercom]\nnum_workers = "lots"\n')
    assert message.startswith(
        "intercom.num_workers: must be 'auto' or a whole number from 1 to 64 (got 'lots')"
    )
    assert str(tmp_path / "intercom-sync.toml") in message
    assert "\n" not in message


def test_the_environment_variable_is_named_when_it_is_the_culprit(tmp_path: Path) -> None:
    message = error_of(tmp_path, env={"INTERCOM_SYNC_API_RATE_LIMIT": "0"})
    assert message.startswith("intercom.api_rate_limit: must be a whole number")
    assert "INTERCOM_SYNC_API_RATE_LIMIT" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('region = "de"', "intercom.region"),
        ('api_version = "2.9"', "intercom.api_version"),
        ('base_url = "ftp://x"', "intercom.base_url"),
        ('start_date = "last tuesday"', "intercom.start_date"),
        ("lookback_days = -1", "intercom.lookback_days"),
        ("resources = 5", "intercom.resources"),
        ("num_workers = 65", "intercom.num_workers"),
        ("num_workers = 0", "intercom.num_workers"),
        ("num_workers = true", "intercom.num_workers"),
        ("api_rate_limit = 0", "intercom.api_rate_limit"),
        ("activity_logs_slice_days = 0", "intercom.activity_logs_slice_days"),
        ("search_lag_seconds = -5", "intercom.search_lag_seconds"),
        ("max_attempts = 0", "intercom.max_attempts"),
    ],
)
def test_every_bad_value_is_reported_by_its_key(tmp_path: Path, text: str, key: str) -> None:
    message = error_of(tmp_path, f"[intercom]\n{text}\n")
    assert message.startswith(f"{key}: must be ")


def test_an_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[intercom]\napi_ratelimit = 100\n")
    assert message.startswith(
        "intercom.api_ratelimit: unknown key (did you mean 'api_rate_limit'?)"
    )


def test_an_unknown_section_is_an_error(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[intercomm]\nregion = 'us'\n").startswith(
        "intercomm: unknown section (did you mean 'intercom'?); "
        "valid: [intercom], [store], [dashboards]"
    )
    # [connectors] was once let through, though nothing reads it: a typo's cousin.
    assert error_of(tmp_path, "[connectors]\n").startswith("connectors: unknown section")


def test_a_start_date_in_the_future_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[intercom]\nstart_date = "2999-01-01T00:00:00+02:00"\n')
    assert message.startswith("intercom.start_date: is in the future (2998-12-31T22:00:00Z)")
    assert "intercom-sync.toml" in message
    recent = load(tmp_path, '[intercom]\nstart_date = "2026-01-01"\n').intercom.start_date
    assert recent == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_unknown_override_is_an_error(tmp_path: Path) -> None:
    assert error_of(tmp_path, overrides={"workers": 3}).startswith("intercom.workers: unknown key")


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[intercom\nregion = 'us'\n")
    assert "not valid TOML" in message and "intercom-sync.toml" in message


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_a_bad_store_url_is_reported_without_its_password(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[store]\nurl = "mysql://u:hunter2@db/x"\n')
    assert message.startswith("store.url: must be sqlite:///<path> or postgresql://")
    assert "hunter2" not in message


# -- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"2021-03-04T05:06:07Z"', datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ('"2021-03-04T07:06:07+02:00"', datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ('"2021-03-04"', datetime(2021, 3, 4, tzinfo=UTC)),
        ("2021-03-04T05:06:07Z", datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)),  # a TOML datetime
        ("2021-03-04", datetime(2021, 3, 4, tzinfo=UTC)),  # a TOML date
    ],
)
def test_start_date_forms(tmp_path: Path, raw: str, expected: datetime) -> None:
    assert load(tmp_path, f"[intercom]\nstart_date = {raw}\n").intercom.start_date == expected


def test_an_unquoted_api_version_is_accepted(tmp_path: Path) -> None:
    assert load(tmp_path, "[intercom]\napi_version = 2.14\n").intercom.api_version == "2.14"


def test_resources_are_validated_against_the_callers_catalog(tmp_path: Path) -> None:
    catalog = ["admins", "teams", "contacts", "conversations"]
    assert load(tmp_path).validate_resources(catalog) == tuple(catalog)
    chosen = load(tmp_path, '[intercom]\nresources = ["teams", "admins"]\n')
    assert chosen.validate_resources(catalog) == ("teams", "admins")
    wrong = load(tmp_path, '[intercom]\nresources = ["contcts"]\n')
    with pytest.raises(ConfigError) as caught:
        wrong.validate_resources(catalog)
    assert str(caught.value) == (
        "intercom.resources: unknown stream 'contcts' (did you mean 'contacts'?); "
        "valid streams: admins, teams, contacts, conversations"
    )


def test_several_unknown_streams_are_all_listed(tmp_path: Path) -> None:
    wrong = load(tmp_path, '[intercom]\nresources = ["x", "admins", "y"]\n')
    with pytest.raises(ConfigError, match="unknown streams 'x', 'y'; valid streams: admins"):
        wrong.validate_resources(["admins"])


# -- the token -------------------------------------------------------------------------------------


def test_the_token_comes_from_intercom_access_token_by_default(tmp_path: Path) -> None:
    settings = load(tmp_path, env={"INTERCOM_ACCESS_TOKEN": TOKEN})
    assert settings.require_token().get_secret_value() == TOKEN
    assert settings.intercom.access_token_env == "INTERCOM_ACCESS_TOKEN"


def test_the_token_variable_can_be_renamed_in_the_file(tmp_path: Path) -> None:
    text = '[intercom]\naccess_token = { env = "ACME_INTERCOM" }\n'
    settings = load(tmp_path, text, env={"ACME_INTERCOM": TOKEN, "INTERCOM_ACCESS_TOKEN": "other"})
    assert settings.require_token().get_secret_value() == TOKEN


def test_a_missing_token_says_which_variable_to_set(tmp_path: Path) -> None:
    settings = load(tmp_path, '[intercom]\naccess_token = { env = "ACME_INTERCOM" }\n')
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert str(caught.value).startswith("intercom.access_token: no access token")
    assert "ACME_INTERCOM" in str(caught.value)


def test_a_literal_token_works_but_is_warned_about_without_showing_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="intercom_sync.config"):
        settings = load(tmp_path, f'[intercom]\naccess_token = "{TOKEN}"\n')
    assert settings.require_token().get_secret_value() == TOKEN
    assert "prefer" in caplog.text
    assert TOKEN not in caplog.text


def test_the_token_never_shows_in_repr_str_or_dumps(tmp_path: Path) -> None:
    settings = load(tmp_path, env={"INTERCOM_ACCESS_TOKEN": TOKEN})
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.intercom)]
    shown.append(str(settings.model_dump()))
    assert all(TOKEN not in text for text in shown)


def test_a_bad_token_spec_is_reported_without_echoing_it(tmp_path: Path) -> None:
    message = error_of(tmp_path, f'[intercom]\naccess_token = {{ value = "{TOKEN}" }}\n')
    assert message.startswith("intercom.access_token: must be")
    assert TOKEN not in message
    assert TOKEN not in error_of(tmp_path, overrides={"access_token": [TOKEN]})


def test_a_store_password_is_hidden_from_repr(tmp_path: Path) -> None:
    settings = load(tmp_path, '[store]\nurl = "postgresql://sync:hunter2@db/intercom"\n')
    assert "hunter2" not in repr(settings)
    assert settings.store.redacted_url == "postgresql://sync:***@db/intercom"
    assert settings.store.url.endswith("hunter2@db/intercom")


def test_settings_can_be_built_in_python_with_a_literal_token() -> None:
    settings = Settings(intercom=IntercomSettings(access_token=TOKEN, base_url="http://x:1"))  # type: ignore[arg-type]
    assert settings.require_token().get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)


def test_a_token_in_intercom_sync_access_token_is_taken_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="intercom_sync.config"):
        settings = load(tmp_path, env={"INTERCOM_SYNC_ACCESS_TOKEN": TOKEN})
    assert settings.require_token().get_secret_value() == TOKEN
    assert caplog.text == ""


def test_an_env_token_spec_in_python_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    intercom = IntercomSettings(access_token={"env": "ACME_TOKEN"})  # type: ignore[arg-type]
    assert Settings(intercom=intercom).require_token().get_secret_value() == TOKEN
    monkeypatch.delenv("ACME_TOKEN")
    assert IntercomSettings(access_token={"env": "ACME_TOKEN"}).access_token is None  # type: ignore[arg-type]


# -- the starter file --------------------------------------------------------------------------


def test_the_starter_file_parses_back_to_the_defaults(tmp_path: Path) -> None:
    from_starter = load(tmp_path, starter_toml())
    defaults = load_settings(env={}, cwd=tmp_path / "empty")
    assert from_starter.model_dump(exclude={"config_file"}) == defaults.model_dump(
        exclude={"config_file"}
    )


def test_the_starter_file_documents_every_key() -> None:
    text = starter_toml()
    data = tomllib.loads(text)
    documented = set(data["intercom"]) | {f"store.{k}" for k in data["store"]}
    expected = set(IntercomSettings.model_fields) - {"access_token_env"}
    assert documented == expected | {"store.url"}
    for line_before, line in zip(text.splitlines(), text.splitlines()[1:], strict=False):
        if " = " in line and not line.startswith("#"):
            assert line_before.startswith("#"), f"{line} has no comment above it"


def test_each_key_in_the_starter_file_carries_its_fields_description() -> None:
    lines = starter_toml().splitlines()
    for key, field in IntercomSettings.model_fields.items():
        if key == "access_token_env":
            continue
        at = lines.index(next(line for line in lines if line.startswith(f"{key} = ")))
        described = (field.description or "").splitlines()
        assert lines[at - len(described) : at] == [f"# {line}" for line in described], key


# -- one source: the model, its sources, and what loading fills in ------------------------------


def test_settings_built_directly_read_neither_the_environment_nor_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, '[intercom]\napi_version = "2.12"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERCOM_SYNC_LOOKBACK_DAYS", "9")
    built = Settings(intercom=IntercomSettings(access_token=TOKEN))  # type: ignore[arg-type]
    assert (built.intercom.api_version, built.intercom.lookback_days) == ("2.11", 0)
    loaded = load_settings()
    assert (loaded.intercom.api_version, loaded.intercom.lookback_days) == ("2.12", 9)


def test_the_dashboards_table_is_carried_for_the_metrics_layer(tmp_path: Path) -> None:
    text = '[dashboards.mine.widgets.open]\nkind = "stat"\n'
    assert load(tmp_path, text).dashboards == {"mine": {"widgets": {"open": {"kind": "stat"}}}}
    assert load_settings(env={}, cwd=tmp_path / "empty").dashboards == {}
    assert error_of(tmp_path, "dashboards = 5\n").startswith(
        "dashboards: must be a table of dashboards"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[intercom]\naccess_token_env = "X"\n', "intercom.access_token_env: unknown key"),
        ('config_file = "x.toml"\n', "config_file: unknown section"),
        ('region = "eu"\n', "region: unknown section"),  # a key above any [section]
        ("intercom = 5\n", "intercom: must be a table of keys, [intercom]"),
        ("[store]\npath = 'x.db'\n", "store.path: unknown key; valid keys: url"),
    ],
)
def test_what_loading_fills_in_and_misplaced_keys_are_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(expected)
    assert message.endswith(f"set in {tmp_path / 'intercom-sync.toml'}")


def test_an_unknown_key_is_reported_before_the_values_beside_it(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[intercom]\nnum_workers = "lots"\napi_ratelimit = 3\n')
    assert message.startswith("intercom.api_ratelimit: unknown key")


def test_environment_variables_that_are_not_keys_are_ignored(tmp_path: Path) -> None:
    env = {
        "INTERCOM_SYNC_ACCESS_TOKEN_ENV": "ELSEWHERE",  # filled in by loading, not a key
        "INTERCOM_SYNC_DASHBOARD_TOKEN": "for serve --auth-token",
        "INTERCOM_SYNC_URL": "sqlite:///not-store-url.db",
    }
    settings = load(tmp_path, env=env)
    assert settings.intercom.access_token_env == "INTERCOM_ACCESS_TOKEN"
    assert settings.store.url == "sqlite:///intercom.db"


def test_a_flag_setting_what_loading_fills_in_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, overrides={"access_token_env": "X"})
    assert message.startswith("intercom.access_token_env: unknown key")
    assert message.endswith("set on the command line")


def test_the_token_follows_the_winning_spec(tmp_path: Path) -> None:
    text = '[intercom]\naccess_token = { env = "FROM_FILE" }\n'
    env = {"FROM_FILE": "file-token", "FROM_FLAG": "flag-token"}
    from_file = load(tmp_path, text, env=env)
    assert from_file.require_token().get_secret_value() == "file-token"
    assert from_file.intercom.access_token_env == "FROM_FILE"
    flagged = load(tmp_path, text, env=env, overrides={"access_token": {"env": "FROM_FLAG"}})
    assert flagged.require_token().get_secret_value() == "flag-token"
    assert flagged.intercom.access_token_env == "FROM_FLAG"
    literal = load(tmp_path, text, env={**env, "INTERCOM_SYNC_ACCESS_TOKEN": TOKEN})
    assert literal.require_token().get_secret_value() == TOKEN
    assert literal.intercom.access_token_env is None
