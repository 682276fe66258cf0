"""`intercom-sync verify`: the store's copy of each search stream against Intercom's counts.

Read-only towards the data: nothing is re-read or written but the check's own record
(`verify:<stream>` in the sync state, which `status` and the dashboard show). The next
ordinary sync counts the same spans and re-reads the ones that disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from intercom_sync.client.errors import IntercomError, PermissionDeniedError
from intercom_sync.clock import Clock, SystemClock
from intercom_sync.config import Settings
from intercom_sync.engine.context import SyncContext
from intercom_sync.engine.runners.completeness import (
    Check,
    SpanSearch,
    check_stream,
)
from intercom_sync.engine.sync import build_context, fatal_errors, preflight, run_options
from intercom_sync.store import Store, open_store
from intercom_sync.store.verification import verification_key
from intercom_sync.store.writer import AsyncStore
from intercom_sync.streams.catalog import STREAMS, StreamSpec

# The streams Intercom can count: search answers `total_count` for any query.
COUNTED_STREAMS: tuple[str, ...] = tuple(s.name for s in STREAMS.values() if s.kind == "search")


@dataclass
class StreamVerification:
    stream: str
    check: Check | None = None
    note: str | None = None  # why the stream was not checked

    @property
    def ok(self) -> bool:
        """Checked and in agreement, or not checkable (which is no disagreement)."""
        return self.check is None or self.check.tally is None or self.check.tally.agrees

    def line(self) -> str:
        """One line a person (or grep) reads."""
        if self.check is None or self.check.tally is None:
            why = self.note or (self.check.skipped if self.check else None) or "not checked"
            return f"{self.stream}: not checked — {why}"
        t = self.check.tally
        if t.agrees:
            extra = (
                f"; {len(self.check.absent)} rows await a full sync" if self.check.absent else ""
            )
            return f"{self.stream}: complete — {t.intercom:,} records, as Intercom counts{extra}"
        spans = ", ".join(_span_text(m.span.lo, m.span.hi) for m in t.mismatches[:5])
        more = f" and {len(t.mismatches) - 5} more" if len(t.mismatches) > 5 else ""
        if t.intercom > t.store:
            gap = f"{t.intercom - t.store:,} missing"
        else:
            gap = f"{t.store - t.intercom:,} more than Intercom counts"
        return (
            f"{self.stream}: DISAGREES — Intercom counts {t.intercom:,}, the store has "
            f"{t.store:,} ({gap}) in {spans}{more}; the next sync re-reads them"
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stream": self.stream, "ok": self.ok}
        if self.note:
            out["note"] = self.note
        if self.check is not None:
            out.update(self.check.record(0, "verify"))
            out.pop("at")
        return out


def _span_text(lo: int, hi: int) -> str:
    first = datetime.fromtimestamp(lo, UTC).strftime("%Y-%m-%d %H:%M:%S")
    last = datetime.fromtimestamp(hi, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"[{first} .. {last}] UTC"


async def verify(
    settings: Settings,
    *,
    streams: Sequence[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
) -> list[StreamVerification]:
    """Check each chosen stream; raises `FatalSyncError` for a rejected token or an
    unreachable host, as a sync does."""
    chosen = [STREAMS[name] for name in (streams or COUNTED_STREAMS)]
    clock = clock or SystemClock()
    own_store = store is None
    store = store or open_store(settings.store.url)
    astore = AsyncStore(store)
    ctx = build_context(
        settings,
        astore,
        run_options(settings, full=False),
        transport=transport,
        clock=clock,
        run_id=uuid.uuid4().hex[:12],
        progress=None,
        selected=frozenset(s.name for s in chosen),
    )
    try:
        with fatal_errors(settings):
            await preflight(ctx)
            return [await _verify_stream(ctx, spec) for spec in chosen]
    finally:
        await ctx.client.aclose()
        astore.close()
        if own_store:
            store.close()


async def _verify_stream(ctx: SyncContext, spec: StreamSpec) -> StreamVerification:
    if spec.kind != "search":
        return StreamVerification(spec.name, note="Intercom gives no count for this stream")
    state = await ctx.store.run(lambda b: b.get_state(spec.name)) or {}
    if state.get("cursor") is None:
        return StreamVerification(spec.name, note="never synced into this store")
    search = SpanSearch(spec, ctx.workspace_timezone, ctx.options.per_page)
    start = ctx.options.start
    roots = search.roots(start, start, int(state["cursor"]))
    absent = {str(k): int(v) for k, v in (state.get("absent") or {}).items()}
    try:
        check = await check_stream(ctx, search, roots, seen_pass=None, absent=absent, write=None)
    except PermissionDeniedError:
        return StreamVerification(spec.name, note="the access token may not read it")
    except IntercomError as error:
        return StreamVerification(spec.name, note=f"Intercom failed: {error}")
    record = check.record(ctx.now(), "verify")
    await ctx.store.run(lambda b: b.save_state({verification_key(spec.name): record}, ctx.now()))
    return StreamVerification(spec.name, check)
