"""How a sync looks in a terminal: a live row per stream, then a summary table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from intercom_sync.engine.context import StreamResult

if TYPE_CHECKING:
    from intercom_sync.engine.sync import SyncOutcome

_STATUS_STYLE = {
    "pending": "dim",
    "running": "cyan",
    "succeeded": "green",
    "failed": "bold red",
    "skipped": "yellow",
}


class RichProgress:
    """A `ProgressSink` drawing one live row per stream: records, pages, requests, rate."""

    def __init__(self, console: Console, clock: Callable[[], float]) -> None:
        self.console = console
        self._clock = clock
        self._started = clock()
        self._rows: dict[str, StreamResult] = {}
        self._live = Live(self._table(), console=console, refresh_per_second=4, transient=False)

    def __enter__(self) -> RichProgress:
        if self.console.is_terminal:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.console.is_terminal:
            self._live.update(self._table())
            self._live.stop()

    def _refresh(self) -> None:
        if self.console.is_terminal:
            self._live.update(self._table())

    def _table(self) -> Table:
        elapsed = max(1e-6, self._clock() - self._started)
        total = sum(row.requests for row in self._rows.values())
        table = Table(
            title=f"Syncing — {total} requests, {total / elapsed:.1f} req/s",
            title_justify="left",
            expand=False,
        )
        for column in ("stream", "status", "records", "pages", "requests"):
            table.add_column(column, justify="left" if column in ("stream", "status") else "right")
        for name, row in self._rows.items():
            style = _STATUS_STYLE.get(row.status, "")
            table.add_row(
                name,
                f"[{style}]{row.status}[/]",
                f"{row.records:,}",
                f"{row.pages:,}",
                f"{row.requests:,}",
            )
        return table

    # -- ProgressSink ------------------------------------------------------------------
    def stream_started(self, name: str) -> None:
        self._rows[name] = StreamResult(name, status="running")
        self._refresh()

    def stream_progress(self, result: StreamResult) -> None:
        self._rows[result.name] = result
        self._refresh()

    def stream_finished(self, result: StreamResult) -> None:
        self._rows[result.name] = result
        self._refresh()
        if not self.console.is_terminal:
            self.console.print(
                f"{result.name}: {result.status}, {result.records:,} records, "
                f"{result.requests:,} requests"
            )

    def note(self, message: str) -> None:
        self.console.print(f"[dim]{escape(message)}[/]")


def summary_table(outcome: SyncOutcome) -> Table:
    table = Table(
        title=(
            f"Sync {outcome.run_id}: {outcome.status} — {outcome.requests:,} requests, "
            f"{outcome.rate_limited} rate-limited, {outcome.retries} retried, "
            f"{outcome.elapsed:.1f}s"
        ),
        title_justify="left",
    )
    for column in ("stream", "status", "records", "pages", "requests", "deleted", "notes"):
        justify: Literal["left", "right"] = (
            "right" if column in ("records", "pages", "requests", "deleted") else "left"
        )
        table.add_column(column, justify=justify, overflow="fold")
    for name, r in outcome.results.items():
        style = _STATUS_STYLE.get(r.status, "")
        notes = escape(r.error or r.warning or _detail(r))
        table.add_row(
            name,
            f"[{style}]{r.status}[/]",
            f"{r.records:,}",
            f"{r.pages:,}",
            f"{r.requests:,}",
            f"{r.deleted:,}",
            notes,
        )
    return table


def _detail(result: StreamResult) -> str:
    bits = [f"{k}: {v}" for k, v in result.detail.items()]
    return ", ".join(bits)
