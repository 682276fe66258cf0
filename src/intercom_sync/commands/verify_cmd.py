"""`intercom-sync verify`: one line per stream, and an exit code a scheduler can act on."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape

from intercom_sync.clock import Clock
from intercom_sync.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from intercom_sync.config import ConfigError, Settings
from intercom_sync.engine.sync import FatalSyncError
from intercom_sync.engine.verify import COUNTED_STREAMS, verify


def run_verify(
    settings: Settings,
    *,
    console: Console,
    as_json: bool,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> int:
    """Verify the chosen streams (`intercom.resources`, default: every counted one)."""
    streams = settings.validate_resources(COUNTED_STREAMS)
    try:
        results = asyncio.run(verify(settings, streams=streams, transport=transport, clock=clock))
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    except FatalSyncError as error:
        fail(str(error), error.exit_code)
    if as_json:
        typer.echo(orjson.dumps([r.as_json() for r in results]).decode())
    else:
        for result in results:
            colour = "green" if result.ok and result.check else "red" if not result.ok else "dim"
            console.print(f"[{colour}]{escape(result.line())}[/]", soft_wrap=True)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED
