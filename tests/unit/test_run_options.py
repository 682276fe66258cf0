"""A run's options are the settings' values: no default of their own to drift from them."""

from __future__ import annotations

from pathlib import Path

from intercom_sync.config import IntercomSettings, load_settings
from intercom_sync.engine.sync import run_options


def test_run_options_carry_the_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path)
    options = run_options(settings, full=False)
    fields = IntercomSettings.model_fields
    assert options.search_lag == settings.intercom.search_lag_seconds == 600
    assert fields["search_lag_seconds"].default == 600  # the documented default
    assert options.membership_refresh == 3_600  # the default "1h"
    assert options.start == settings.start_timestamp == 1_577_836_800
    assert (options.lookback_days, options.activity_logs_slice_days) == (0, 30)
    assert options.full is False and run_options(settings, full=True).full is True


def test_run_options_follow_what_the_user_set(tmp_path: Path) -> None:
    overrides = {
        "search_lag_seconds": 90,
        "membership_refresh": "30m",
        "lookback_days": 2,
        "activity_logs_slice_days": 7,
        "start_date": "2024-05-06T00:00:00Z",
    }
    options = run_options(load_settings(env={}, overrides=overrides, cwd=tmp_path), full=True)
    assert (options.search_lag, options.membership_refresh) == (90, 1_800)
    assert (options.lookback_days, options.activity_logs_slice_days) == (2, 7)
    assert options.start == 1_714_953_600
