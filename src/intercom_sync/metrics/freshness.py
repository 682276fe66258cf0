"""How fresh the store is: per stream, when it last synced, how the last run went, and how
many rows the store holds for it.

Read from `_sync_state` (one checkpoint per stream, stamped when written), `_sync_runs`
(one row per run, with per-stream counts as JSON) and the tables themselves. An age is
never negative: a sync after the as-of moment has no age (`age_minutes` None, and
`after_as_of` says why).
"""

from __future__ import annotations

import threading
from typing import Any

import orjson

from intercom_sync.metrics.durations import iso_ms
from intercom_sync.store.base import Store
from intercom_sync.store.schema import RAW_TABLES
from intercom_sync.store.verification import (
    is_verification_key,
    verification_key,
    verification_text,
)

# Streams with no table of their own, and the entity type whose edges they write.
_EDGE_STREAMS = {"contact_links": "intercom_contact"}

_RUN_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "status",
    "mode",
    "streams",
    "requests",
    "rate_limited",
    "errors",
)


def to_ms(value: Any) -> int | None:
    """Store timestamps are Unix seconds; accept milliseconds too (anything past year 5138)."""
    if value is None:
        return None
    number = float(value)
    return int(number if number > 1e11 else number * 1000)


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, dict | list):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return default


def last_runs(store: Store, limit: int = 5) -> list[dict[str, Any]]:
    """The most recent runs, newest first, with their per-stream counts."""
    rows = store.query(
        f"SELECT {', '.join(_RUN_COLUMNS)} FROM _sync_runs ORDER BY started_at DESC, run_id DESC "  # noqa: S608
        "LIMIT ?",
        (int(limit),),
    )
    out = []
    for row in rows:
        run = dict(zip(_RUN_COLUMNS, row, strict=True))
        run["streams"] = _json(run["streams"], {})
        run["errors"] = _json(run["errors"], [])
        for key in ("started_at", "finished_at"):
            ms = to_ms(run[key])
            run[key] = None if ms is None else iso_ms(ms)
        out.append(run)
    return out


def stream_rows(store: Store, stream: str, connector: str = "intercom") -> int | None:
    """Live rows the store holds for a stream: its table's rows not marked deleted, or the
    edges it writes (contact links); None for a name without either."""
    if stream in _EDGE_STREAMS:
        rows = store.query(
            "SELECT COUNT(*) FROM edges WHERE connector = ? AND src_type = ?",
            (connector, _EDGE_STREAMS[stream]),
        )
        return int(rows[0][0] or 0)
    if stream not in RAW_TABLES:
        return None
    # Two counts the indexes answer (every row; the deleted ones, a partial index), rather
    # than one that reads every row of a large table.
    total = store.query(f"SELECT COUNT(*) FROM {stream}")[0][0]  # noqa: S608
    deleted = store.query(
        f"SELECT COUNT(*) FROM {stream} WHERE deleted_at IS NOT NULL"  # noqa: S608
    )[0][0]
    return int(total or 0) - int(deleted or 0)


class _RowCounts:
    """Counting a large table takes a while (767,000 parts: a fifth of a second cold), and
    the counts only change when a sync writes: they are kept while the sync bookkeeping
    (checkpoints, runs) is unchanged."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._counts: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, streams: list[str]) -> dict[str, int | None]:
        state = store.query("SELECT COUNT(*), MAX(updated_at) FROM _sync_state")[0]
        runs = store.query("SELECT COUNT(*), MAX(started_at), MAX(finished_at) FROM _sync_runs")
        key = (store.url, *state, *runs[0], tuple(streams))
        with self._lock:
            if key == self._key:
                return self._counts
        counts = {name: stream_rows(store, name) for name in streams}
        with self._lock:
            self._key, self._counts = key, counts
        return counts


_ROW_COUNTS = _RowCounts()


def stream_freshness(store: Store, now_ms: int) -> list[dict[str, Any]]:
    """One entry per stream that has a checkpoint: last sync, age, last run, rows stored,
    and its last check against Intercom's counts."""
    runs = last_runs(store, 1)
    last_run_streams: dict[str, Any] = runs[0]["streams"] if runs else {}
    rows = store.query("SELECT stream, updated_at, state FROM _sync_state ORDER BY stream")
    checks = {str(s): _json(v, {}) for s, _, v in rows if is_verification_key(str(s))}
    rows = [(s, u, v) for s, u, v in rows if not is_verification_key(str(s))]
    names = sorted({str(s) for s, _, _ in rows} | set(last_run_streams))
    synced = {str(s): to_ms(u) for s, u, _ in rows}
    stored = _ROW_COUNTS.get(store, names)
    out = []
    for name in names:
        at = synced.get(name)
        info = last_run_streams.get(name) or {}
        age = None if at is None else round((now_ms - at) / 60_000, 1)
        out.append(
            {
                "stream": name,
                "last_synced": None if at is None else iso_ms(at),
                "age_minutes": None if age is None or age < 0 else age,
                "after_as_of": age is not None and age < 0,
                "last_run_status": info.get("status") if isinstance(info, dict) else None,
                "last_run_records": info.get("records") if isinstance(info, dict) else None,
                "rows": stored.get(name),
                "verified": verification_text(checks.get(verification_key(name))),
            }
        )
    return out


def sync_overview(store: Store, now_ms: int) -> dict[str, Any]:
    """What `/api/sync/state` and the page header show."""
    runs = last_runs(store, 5)
    streams = stream_freshness(store, now_ms)
    synced = [s["age_minutes"] for s in streams if s["age_minutes"] is not None]
    return {
        "as_of": iso_ms(now_ms),
        "last_run": runs[0] if runs else None,
        "recent_runs": runs,
        "streams": streams,
        "oldest_stream_age_minutes": max(synced) if synced else None,
        "newest_stream_age_minutes": min(synced) if synced else None,
    }
