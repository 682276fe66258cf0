"""One sync run: every selected stream concurrently, under one client and one store."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from intercom_sync.client.errors import (
    AuthenticationError,
    IntercomError,
    PermissionDeniedError,
    UnreachableError,
)
from intercom_sync.client.http import ClientOptions, IntercomClient
from intercom_sync.client.pagination import PaginationError
from intercom_sync.clock import Clock, SystemClock
from intercom_sync.config import MAX_WORKERS, Settings
from intercom_sync.engine.context import (
    NullProgress,
    ProgressSink,
    RunOptions,
    StreamResult,
    SyncContext,
)
from intercom_sync.engine.locks import StreamBusy
from intercom_sync.engine.messages import (
    first_request_message,
    token_message,
    unreachable_message,
)
from intercom_sync.engine.run_mode import actual_mode, planned_mode
from intercom_sync.engine.runners.activity_logs import run_activity_logs
from intercom_sync.engine.runners.children import run_children
from intercom_sync.engine.runners.companies import ScrollAbandoned, run_companies
from intercom_sync.engine.runners.company_segments import fetch_company_segments
from intercom_sync.engine.runners.contact_companies import fetch_contact_companies
from intercom_sync.engine.runners.list_stream import run_list
from intercom_sync.engine.runners.memberships import run_memberships
from intercom_sync.engine.runners.parts import fetch_conversation_parts
from intercom_sync.engine.runners.search_stream import run_search
from intercom_sync.engine.tuning import tune_gc
from intercom_sync.store import open_store
from intercom_sync.store.base import RunRecord, SyncBackend
from intercom_sync.store.writer import AsyncStore
from intercom_sync.streams.catalog import STREAM_NAMES, StreamSpec, select_streams

logger = logging.getLogger("intercom_sync.engine")

RunStatus = Literal["succeeded", "partial", "failed"]
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class FatalSyncError(Exception):
    """The run cannot go on at all (rejected token, unreachable host)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class SyncOutcome:
    run_id: str
    status: RunStatus
    results: dict[str, StreamResult]
    requests: int
    rate_limited: int
    retries: int
    elapsed: float
    interrupted_runs: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"succeeded": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}[self.status]

    @property
    def warnings(self) -> list[str]:
        return [r.warning for r in self.results.values() if r.warning]

    @property
    def errors(self) -> list[str]:
        return [f"{r.name}: {r.error}" for r in self.results.values() if r.error]


# The run's knobs that are not settings.
CONNECTOR = "intercom"  # the connector name the store records every row under
PER_PAGE = 150  # Intercom's largest page
SCROLL_WAIT_SECONDS = 600.0  # for another company scroll open in the workspace to expire
SCROLL_RESTARTS = 5  # of our own company scroll before the stream fails
LOCK_WAIT_SECONDS = 3_600.0  # for another sync into the same store to finish a stream
# Child fetches run as many tasks as requests can ever be in flight; the client's
# concurrency controller decides how many of them actually are.
CHILD_WORKERS = MAX_WORKERS


def run_options(settings: Settings, *, full: bool) -> RunOptions:
    """A run's options: the settings' values and the knobs above."""
    intercom = settings.intercom
    return RunOptions(
        full=full,
        start=settings.start_timestamp,
        lookback_days=intercom.lookback_days,
        search_lag=intercom.search_lag_seconds,
        activity_logs_slice_days=intercom.activity_logs_slice_days,
        membership_refresh=intercom.membership_refresh,
        connector=CONNECTOR,
        per_page=PER_PAGE,
        scroll_wait_seconds=SCROLL_WAIT_SECONDS,
        scroll_restarts=SCROLL_RESTARTS,
        lock_wait_seconds=LOCK_WAIT_SECONDS,
        child_workers=CHILD_WORKERS,
    )


async def sync(
    settings: Settings,
    *,
    full: bool = False,
    streams: Sequence[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    progress: ProgressSink | None = None,
    store: SyncBackend | None = None,
    options: RunOptions | None = None,
) -> SyncOutcome:
    """Run one sync into `store` (by default the store `settings` name; a protocol adapter
    passes a backend that emits messages instead). Raises `FatalSyncError` for a rejected
    token or an unreachable host (`ConfigError` for bad configuration); anything else ends
    up in the outcome."""
    chosen = tuple(streams) if streams else settings.validate_resources(STREAM_NAMES)
    specs = select_streams(list(chosen))
    tune_gc()  # once per process: see engine/tuning.py
    clock = clock or SystemClock()
    opened = None if store is not None else open_store(settings.store.url)
    store = store or opened
    assert store is not None
    astore = AsyncStore(store)
    run_id = uuid.uuid4().hex[:12]
    started = clock.now()
    planned = planned_mode(full, store.all_states(), (s.name for s in specs))
    interrupted = store.start_run(RunRecord(run_id, int(started), planned, os.getpid()))
    ctx = build_context(
        settings,
        astore,
        options or run_options(settings, full=full),
        transport=transport,
        clock=clock,
        run_id=run_id,
        progress=progress,
        selected=frozenset(s.name for s in specs),
    )
    outcome: SyncOutcome | None = None
    final_status = "failed"
    try:
        with fatal_errors(settings):
            await preflight(ctx)
            await _run_all(ctx, specs)
        outcome = _outcome(ctx, started, interrupted)
        final_status = outcome.status
    except (KeyboardInterrupt, asyncio.CancelledError):
        final_status = "interrupted"
        raise
    finally:
        await ctx.client.aclose()
        astore.close()  # waits for the writer thread: nothing else touches the store now
        _record_finish(store, ctx, final_status, clock, actual_mode(planned, ctx.results.values()))
        if opened is not None:
            opened.optimize()
            opened.close()
    return outcome


async def _run_all(ctx: SyncContext, specs: list[StreamSpec]) -> None:
    """Every stream at once. A rejected token stops them all; other failures stay within
    their stream."""
    try:
        async with asyncio.TaskGroup() as group:
            for spec in specs:
                group.create_task(_run_stream(ctx, spec))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


def build_context(
    settings: Settings,
    store: AsyncStore,
    options: RunOptions,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Clock,
    run_id: str,
    progress: ProgressSink | None,
    selected: frozenset[str],
) -> SyncContext:
    """A run's client and everything its runners share (also used by `verify`)."""
    client = IntercomClient(ClientOptions.from_settings(settings), transport=transport, clock=clock)
    return SyncContext(
        client=client,
        store=store,
        options=options,
        clock=clock,
        run_id=run_id,
        progress=progress or NullProgress(),
        selected=selected,
    )


@contextmanager
def fatal_errors(settings: Settings) -> Iterator[None]:
    """A rejected token or an unreachable host ends the run as a `FatalSyncError`."""
    try:
        yield
    except AuthenticationError:
        raise FatalSyncError(token_message(), EXIT_USAGE) from None
    except UnreachableError as error:
        raise FatalSyncError(unreachable_message(error, settings.api_host()), EXIT_FAILED) from None


async def preflight(ctx: SyncContext) -> None:
    """`GET /me` proves the token before any stream starts, and tells the workspace's time
    zone (contact search compares dates by its calendar days). When it fails for good,
    no stream starts: every one of them would fail the same way."""
    try:
        me = await ctx.client.get("/me")
    except PermissionDeniedError:
        return
    except (AuthenticationError, UnreachableError):
        raise
    except IntercomError as error:
        message = first_request_message(error, ctx.client.options.base_url)
        raise FatalSyncError(message, EXIT_FAILED) from None
    app = me.data.get("app")
    if isinstance(app, dict) and isinstance(app.get("timezone"), str):
        ctx.workspace_timezone = app["timezone"]


Runner = Callable[[SyncContext, StreamSpec], Awaitable[None]]
_CHILD_FETCHERS = {
    "conversation_parts": fetch_conversation_parts,
    "company_segments": fetch_company_segments,
    "contact_companies": fetch_contact_companies,
}


def _runner(spec: StreamSpec) -> Runner:
    if spec.kind == "list":
        return run_list
    if spec.kind == "search":
        return run_search
    if spec.kind == "scroll":
        return run_companies
    if spec.kind == "activity_logs":
        return run_activity_logs
    if spec.kind == "membership":
        return run_memberships
    fetch = _CHILD_FETCHERS[spec.name]

    async def children(ctx: SyncContext, s: StreamSpec) -> None:
        await run_children(ctx, s, fetch)

    return children


async def _run_stream(ctx: SyncContext, spec: StreamSpec) -> None:
    result = ctx.result(spec.name)
    result.status = "running"
    ctx.progress.stream_started(spec.name)
    try:
        async with ctx.leases.hold(spec.name):
            await _runner(spec)(ctx, spec)
        result.status = "succeeded"
        _warn_if_parent_failed(ctx, spec, result)
    except AuthenticationError:
        result.status = "failed"
        raise
    except PermissionDeniedError as error:
        _permission_denied(result, spec, error)
    except (IntercomError, ScrollAbandoned, PaginationError, StreamBusy) as error:
        result.status, result.error = "failed", str(error)
    except Exception as error:  # a bug must not take the other streams down with it
        logger.exception("stream %s crashed", spec.name)
        result.status, result.error = "failed", f"internal error: {error!r}"
    finally:
        ctx.finished_event(spec.name).set()
        ctx.progress.stream_finished(result)


def _warn_if_parent_failed(ctx: SyncContext, spec: StreamSpec, result: StreamResult) -> None:
    """A child stream only sees the parents its parent committed: say so when the parent
    failed, rather than report a clean success for what may be a fraction of the work."""
    parent = ctx.results.get(spec.parent) if spec.parent else None
    if parent is not None and parent.status == "failed":
        result.warning = (
            f"{spec.name} covers only the {spec.parent} this run copied before "
            f"{spec.parent} failed; the next successful sync fetches the rest"
        )


def _permission_denied(result: StreamResult, spec: StreamSpec, error: IntercomError) -> None:
    why = f"the access token lacks the '{spec.scope}' permission"
    if spec.optional:
        result.status = "skipped"
        result.warning = f"{spec.name} skipped: {why} (grant it in the Developer Hub to sync it)"
    else:
        result.status = "failed"
        result.error = f"{why}; Intercom said: {error.message}"


def _outcome(ctx: SyncContext, started: float, interrupted: list[str]) -> SyncOutcome:
    statuses = [r.status for r in ctx.results.values()]
    failed = statuses.count("failed")
    status: RunStatus = (
        "succeeded" if failed == 0 else "failed" if failed == len(statuses) else "partial"
    )
    stats = ctx.client.stats
    return SyncOutcome(
        run_id=ctx.run_id,
        status=status,
        results=dict(ctx.results),
        requests=stats.requests,
        rate_limited=stats.rate_limited,
        retries=stats.retries,
        elapsed=ctx.clock.now() - started,
        interrupted_runs=interrupted,
    )


def _record_finish(
    store: SyncBackend, ctx: SyncContext, status: str, clock: Clock, mode: str
) -> None:
    streams: dict[str, Any] = {name: r.as_dict() for name, r in ctx.results.items()}
    errors = [f"{r.name}: {r.error}" for r in ctx.results.values() if r.error]
    store.finish_run(
        ctx.run_id,
        finished_at=int(clock.now()),
        status=status,
        streams=streams,
        requests=ctx.client.stats.requests,
        rate_limited=ctx.client.stats.rate_limited,
        errors=errors,
        mode=mode,
    )
