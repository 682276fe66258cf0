"""The sync's GC settings: applied once per process, with the documented thresholds."""

from __future__ import annotations

import gc

from intercom_sync.engine.tuning import GC_THRESHOLDS, tune_gc


def test_gc_is_tuned_once_per_process() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()  # True the first time in this process, False if a sync already ran here
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert tune_gc() is False
    finally:
        gc.set_threshold(*before)
