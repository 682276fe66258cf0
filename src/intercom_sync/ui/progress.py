"""How a sync looks: in a terminal, a live row per stream, then a summary table; without
one (cron, CI), plain lines — one per stream — that never wrap and a log reader can grep."""

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
        retried = sum(row.retries for row in self._rows.values())
        table = Table(
            title=f"Syncing — {total} requests, {retried} retried, {total / elapsed:.1f} req/s",
            title_justify="left",
            expand=False,
        )
        for column in ("stream", "status", "records", "pages", "requests", "retried"):
            table.add_column(column, justify="left" if column in ("stream", "status") else "right")
        for name, row in self._rows.items():
            style = _STATUS_STYLE.get(row.status, "")
            table.add_row(
                name,
                f"[{style}]{row.status}[/]",
                f"{row.records:,}",
                f"{row.pages:,}",
                f"{row.requests:,}",
                f"{row.retries:,}",
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

    def note(self, message: str) -> None:
        self.console.print(f"[dim]{escape(message)}[/]", soft_wrap=True)


def summary_title(outcome: SyncOutcome) -> str:
    return (
        f"Sync {outcome.run_id}: {outcome.status} — {outcome.requests:,} requests, "
        f"{outcome.rate_limited} rate-limited, {outcome.retries} retried, "
        f"{outcome.elapsed:.1f}s"
    )


_NUMBERS = ("records", "pages", "requests", "retried", "deleted")


def _numbers(r: StreamResult) -> tuple[int, ...]:
    """A stream's figures, in the order of `_NUMBERS`."""
    return (r.records, r.pages, r.requests, r.retries, r.deleted)


def summary_table(outcome: SyncOutcome) -> Table:
    table = Table(title=summary_title(outcome), title_justify="left")
    for column in ("stream", "status", *_NUMBERS, "notes"):
        justify: Literal["left", "right"] = "right" if column in _NUMBERS else "left"
        table.add_column(column, justify=justify, overflow="fold")
    for name, r in outcome.results.items():
        style = _STATUS_STYLE.get(r.status, "")
        notes = escape(r.error or r.warning or _detail(r))
        table.add_row(
            name,
            f"[{style}]{r.status}[/]",
            *(f"{n:,}" for n in _numbers(r)),
            notes,
        )
    return table


def summary_lines(outcome: SyncOutcome) -> list[str]:
    """The summary without a terminal: the title, then one `key=value` line per stream
    (`stream=contacts status=succeeded records=60 … mode=full`). Errors and warnings
    follow on lines of their own (see commands/sync_cmd.py)."""
    lines = [summary_title(outcome)]
    for name, r in outcome.results.items():
        fields: dict[str, object] = {
            "stream": name,
            "status": r.status,
            **dict(zip(_NUMBERS, _numbers(r), strict=True)),
            **r.detail,
        }
        lines.append(" ".join(f"{key}={_plain(value)}" for key, value in fields.items()))
    return lines


def _plain(value: object) -> str:
    text = str(value)
    return f'"{text}"' if not text or any(c.isspace() or c in '"=' for c in text) else text


def _detail(result: StreamResult) -> str:
    bits = [f"{k}: {v}" for k, v in result.detail.items()]
    return ", ".join(bits)
