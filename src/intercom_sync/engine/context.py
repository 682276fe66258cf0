"""What every stream runner of one sync run shares: client, store, options, progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from intercom_sync.client.http import ApiResponse, IntercomClient
from intercom_sync.client.pagination import Paginator, Request
from intercom_sync.client.paging import Page, Send, paginate
from intercom_sync.clock import Clock
from intercom_sync.engine.locks import StreamLeases
from intercom_sync.store.base import ApplyResult, PageWrite
from intercom_sync.store.writer import AsyncStore
from intercom_sync.streams.catalog import StreamSpec

Status = Literal["pending", "running", "succeeded", "failed", "skipped"]


@dataclass
class StreamResult:
    name: str
    status: Status = "pending"
    records: int = 0
    pages: int = 0
    requests: int = 0
    # Failed attempts retried until they succeeded (counted, not printed one by one).
    retries: int = 0
    deleted: int = 0
    error: str | None = None
    warning: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "records": self.records,
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "deleted": self.deleted,
        }
        if self.error:
            out["error"] = self.error
        if self.warning:
            out["warning"] = self.warning
        out.update(self.detail)
        return out


class ProgressSink(Protocol):
    """Where a run reports what it does (a Rich display, a log, nothing)."""

    def stream_started(self, name: str) -> None: ...

    def stream_progress(self, result: StreamResult) -> None: ...

    def stream_finished(self, result: StreamResult) -> None: ...

    def note(self, message: str) -> None: ...


class NullProgress:
    def stream_started(self, name: str) -> None:
        pass

    def stream_progress(self, result: StreamResult) -> None:
        pass

    def stream_finished(self, result: StreamResult) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    """What a run needs: plain values, built by `engine.sync.run_options` from the
    settings and the run's fixed knobs, so no value here has a default of its own."""

    full: bool
    start: int  # Unix seconds: records updated before it are not synced
    lookback_days: int
    search_lag: float
    activity_logs_slice_days: int
    # Seconds between membership scans (0: every run); a full run always scans.
    membership_refresh: float
    connector: str
    per_page: int
    # Companies: how long to wait for another scroll open in the workspace, and how often
    # to restart ours.
    scroll_wait_seconds: float
    scroll_restarts: int
    # How long a stream waits for another sync into the same store to finish it.
    lock_wait_seconds: float
    child_workers: int


@dataclass
class SyncContext:
    client: IntercomClient
    store: AsyncStore
    options: RunOptions
    clock: Clock
    run_id: str
    progress: ProgressSink
    selected: frozenset[str]
    results: dict[str, StreamResult] = field(default_factory=dict)
    workspace_timezone: str | None = None
    # Set when a stream finishes; its children drain their queue, then stop.
    finished: dict[str, asyncio.Event] = field(default_factory=dict)
    # Set after a parent page commits work for a child stream (keyed by the child).
    work: dict[str, asyncio.Event] = field(default_factory=dict)
    # The stream locks this run holds in the store (see engine.locks).
    leases: StreamLeases = field(init=False)

    def __post_init__(self) -> None:
        self.leases = StreamLeases(
            self.store, self.clock, self.run_id, self.options.lock_wait_seconds, self.progress.note
        )

    def children_of(self, spec: StreamSpec) -> tuple[str, ...]:
        """The child streams of `spec` this run syncs."""
        return tuple(c for c in spec.children if c in self.selected)

    def server_now(self) -> float:
        """The service's clock (from `Date` headers) when known: immune to local skew."""
        return self.client.server_time if self.client.server_time is not None else self.clock.now()

    def now(self) -> int:
        return int(self.clock.now())

    def result(self, stream: str) -> StreamResult:
        return self.results.setdefault(stream, StreamResult(stream))

    async def send(self, stream: str, request: Request) -> ApiResponse:
        result = self.result(stream)
        result.requests += 1
        response = await self.client.send(request)
        result.retries += response.retries
        return response

    async def get(
        self, stream: str, path: str, params: Mapping[str, Any] | None = None
    ) -> ApiResponse:
        return await self.send(stream, Request.get(path, params))

    def pages(
        self,
        stream: str,
        first: Request,
        paginator: Paginator,
        records_key: str,
        *,
        send: Send | None = None,
    ) -> AsyncIterator[Page]:
        """Every page of one paged read, its requests counted for `stream` (the one paging
        loop: `client.paging.paginate`). `send` replaces the plain send (e.g. to wait out
        another app's scroll)."""

        async def counted(request: Request) -> ApiResponse:
            return await self.send(stream, request)

        return paginate(send or counted, first, paginator, records_key)

    async def apply(self, write: PageWrite) -> ApplyResult:
        outcome = await self.store.apply(write, self.now())
        if outcome.moved:
            for child in write.enqueue_children:
                self.work_event(child).set()
        return outcome

    def finished_event(self, stream: str) -> asyncio.Event:
        return self.finished.setdefault(stream, asyncio.Event())

    def work_event(self, child: str) -> asyncio.Event:
        return self.work.setdefault(child, asyncio.Event())

    async def page_done(self, stream: str, records: int) -> None:
        result = self.result(stream)
        result.pages += 1
        result.records += records
        self.progress.stream_progress(result)
        await self.leases.renew_if_due(stream)
