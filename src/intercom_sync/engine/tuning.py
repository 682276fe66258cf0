"""Process-wide settings that make a sync cheaper on the CPU.

A sync allocates millions of short-lived dicts and tuples (parsed JSON, rows), none of
them in reference cycles worth hunting. CPython's default collector runs a young-generation
pass every 700 net allocations and, now and then, walks every long-lived object too (the
imported modules, the schema, compiled row plans). In `bench/local_ceiling.py` parse →
transform went from 13k to 62k–68k conversations/s with the settings below, so a sync:

* freezes what exists after start-up (`gc.freeze()`): those objects are never scanned
  again;
* lets the young generation grow to 50,000 objects before a pass, and collects the older
  generations less often. Memory stays bounded: cycles are still collected, just in larger
  batches.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 50, 100)

_tuned = False


def tune_gc() -> bool:
    """Apply the settings once per process; returns False when they were already applied."""
    global _tuned
    if _tuned:
        return False
    _tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return True
