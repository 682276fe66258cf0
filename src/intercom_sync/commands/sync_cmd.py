"""`intercom-sync sync`: one run, with live progress and a summary."""

from __future__ import annotations

import asyncio

import httpx
from rich.console import Console
from rich.markup import escape

from intercom_sync.clock import Clock, SystemClock
from intercom_sync.commands.common import EXIT_USAGE, fail
from intercom_sync.config import ConfigError, Settings
from intercom_sync.engine.sync import FatalSyncError, SyncOutcome, sync
from intercom_sync.store.base import Store
from intercom_sync.ui.progress import RichProgress, summary_lines, summary_table


def run_sync(
    settings: Settings,
    *,
    full: bool,
    console: Console,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
) -> SyncOutcome:
    """Run a sync with live progress; bad input ends in `fail` (one line, an exit code)."""
    clock = clock or SystemClock()
    progress = RichProgress(console, clock.now)
    try:
        with progress:
            outcome = asyncio.run(
                sync(
                    settings,
                    full=full,
                    transport=transport,
                    clock=clock,
                    progress=progress,
                    store=store,
                )
            )
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    except FatalSyncError as error:
        fail(str(error), error.exit_code)
    print_outcome(console, outcome)
    return outcome


def print_outcome(console: Console, outcome: SyncOutcome) -> None:
    """The summary: a table in a terminal; without one, plain lines that never wrap."""
    if console.is_terminal:
        console.print(summary_table(outcome))
    else:
        for line in summary_lines(outcome):
            console.print(line, markup=False, soft_wrap=True)
    for line in _closing_lines(outcome):
        console.print(line, soft_wrap=True)


def _closing_lines(outcome: SyncOutcome) -> list[str]:
    lines = [f"[yellow]warning:[/] {escape(warning)}" for warning in outcome.warnings]
    lines += [f"[red]failed:[/] {escape(error)}" for error in outcome.errors]
    if outcome.interrupted_runs:
        runs = ", ".join(outcome.interrupted_runs)
        lines.append(f"[dim]earlier runs that were interrupted and resumed: {runs}[/]")
    if outcome.status == "failed":
        lines.append(
            "[red]The sync failed: no stream finished (see above). Fix the cause and run "
            "`intercom-sync sync` again — it resumes from what was committed.[/]"
        )
    if outcome.status == "partial":
        lines.append(
            "[yellow]Some streams failed; the others finished. Fix the cause and run "
            "`intercom-sync sync` again — it resumes where each stream stopped.[/]"
        )
    return lines
