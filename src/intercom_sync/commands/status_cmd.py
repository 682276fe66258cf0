"""`intercom-sync status`: what the store holds, per stream, and how complete it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from intercom_sync.store.base import Store
from intercom_sync.store.verification import verification_key, verification_text
from intercom_sync.streams.catalog import CATALOG


@dataclass
class StreamStatus:
    stream: str
    rows: int
    deleted: int
    last_success: int | None
    cursor: int | None
    last_status: str | None
    error: str | None
    warning: str | None
    flags: list[str]
    # The last check against Intercom's counts (by a sync or `verify`), as recorded.
    verified: dict[str, Any] | None = None


@dataclass
class StoreStatus:
    streams: list[StreamStatus]
    last_run: dict[str, Any] | None
    interrupted_runs: int


def store_status(store: Store) -> StoreStatus:
    states = store.all_states()
    last_run = _last_run(store)
    run_streams: dict[str, Any] = (last_run or {}).get("streams") or {}
    gaps = store.query("SELECT count(*), coalesce(sum(missing), 0) FROM _parts_gaps")[0]
    pending = dict(store.query("SELECT stream, count(*) FROM _pending_children GROUP BY stream"))
    rows = []
    for spec in CATALOG:
        live, deleted = (
            store.query(
                f"SELECT count(*) - count(deleted_at), count(deleted_at) FROM {spec.name}"  # noqa: S608
            )[0]
            if spec.has_table
            else (0, 0)
        )
        state = states.get(spec.name) or {}
        last = run_streams.get(spec.name) or {}
        flags = []
        if spec.name == "conversation_parts" and gaps[0]:
            flags.append(f"{gaps[0]} conversations incomplete ({gaps[1]} parts missing)")
        if pending.get(spec.name):
            flags.append(f"{pending[spec.name]} parents waiting")
        if state.get("pass"):
            flags.append("pass in progress (resumes on next sync)")
        rows.append(
            StreamStatus(
                stream=spec.name,
                rows=int(live or 0),
                deleted=int(deleted or 0),
                last_success=state.get("completed_at"),
                cursor=state.get("cursor"),
                last_status=last.get("status"),
                error=last.get("error"),
                warning=last.get("warning"),
                flags=flags,
                verified=states.get(verification_key(spec.name)),
            )
        )
    interrupted = store.query("SELECT count(*) FROM _sync_runs WHERE status = 'interrupted'")[0][0]
    return StoreStatus(rows, last_run, int(interrupted or 0))


def _last_run(store: Store) -> dict[str, Any] | None:
    found = store.query(
        "SELECT run_id, started_at, finished_at, status, mode, streams, requests, rate_limited "
        "FROM _sync_runs ORDER BY started_at DESC, run_id DESC LIMIT 1"
    )
    if not found:
        return None
    run_id, started, finished, status, mode, streams, requests, limited = found[0]
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": finished,
        "status": status,
        "mode": mode,
        "streams": orjson.loads(streams) if isinstance(streams, str) else streams or {},
        "requests": requests,
        "rate_limited": limited,
    }


def _when(ts: int | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def render_status(console: Console, status: StoreStatus, store_label: str) -> None:
    run = status.last_run
    if run is None:
        console.print(f"{store_label}: no sync has run yet. Run `intercom-sync sync`.")
    else:
        console.print(
            f"{store_label}: last run {run['run_id']} ({run['mode']}) {run['status']}, started "
            f"{_when(run['started_at'])}, {run['requests']} requests, "
            f"{run['rate_limited']} rate-limited; {status.interrupted_runs} interrupted runs "
            "on record"
        )
    table = Table(title_justify="left")
    columns = ("stream", "rows", "deleted", "last success", "cursor", "last run", "verified")
    for column in (*columns, "notes"):
        justify: Literal["left", "right"] = "right" if column in ("rows", "deleted") else "left"
        table.add_column(column, justify=justify, overflow="fold")
    for s in status.streams:
        notes = "; ".join([*(x for x in (s.error, s.warning) if x), *s.flags])
        table.add_row(
            s.stream,
            f"{s.rows:,}",
            f"{s.deleted:,}",
            _when(s.last_success),
            _when(s.cursor),
            s.last_status or "—",
            escape(verification_text(s.verified)),
            escape(notes),
        )
    console.print(table)


def status_json(status: StoreStatus) -> str:
    payload = {
        "last_run": status.last_run,
        "interrupted_runs": status.interrupted_runs,
        "streams": [asdict(s) for s in status.streams],
    }
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()
