"""The `intercom-sync` command line (DESIGN §3.1)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from intercom_sync import __version__
from intercom_sync.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    ConfigOpt,
    StoreOpt,
    fail,
    load,
    print_error,
    setup_logging,
    split_list,
)

app = typer.Typer(
    name="intercom-sync",
    help="Copy a whole Intercom workspace into a local analytics store, and read it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(highlight=False)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"intercom-sync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show debug logs and full tracebacks on errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show informational logs.")
    ] = False,
) -> None:
    """Copy a whole Intercom workspace into a local analytics store, and read it."""
    _state["debug"] = debug
    setup_logging(debug, verbose)


@app.command()
def init(
    path: Annotated[Path, typer.Option("--path", help="Where to write the file.")] = Path(
        "intercom-sync.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter intercom-sync.toml."""
    from intercom_sync.config import starter_toml

    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it", EXIT_USAGE)
    path.write_text(starter_toml(), encoding="utf-8")
    console.print(
        f"Wrote {path}. Next: export INTERCOM_ACCESS_TOKEN=…, then `intercom-sync check`."
    )


@app.command()
def sync(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL (overrides region).")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Re-read everything and mark rows no longer present as deleted."
        ),
    ] = False,
    streams: Annotated[
        str | None, typer.Option("--streams", help="Comma-separated streams (default: all).")
    ] = None,
    api_version: Annotated[
        str | None, typer.Option("--api-version", help="Intercom-Version.")
    ] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option("--rate-limit", help="Requests per minute to use (api_rate_limit)."),
    ] = None,
    workers: Annotated[
        str | None, typer.Option("--workers", help='Requests in flight: "auto" or 1..64.')
    ] = None,
) -> None:
    """Sync the workspace into the store (incremental unless --full).

    \b
    Exit codes:
      0  every selected stream finished (tickets without permission are skipped)
      3  some streams failed, the others finished: run it again to resume them
      2  the token was rejected, or the configuration or the store is unusable
      1  nothing could be synced (unreachable host, a service that keeps failing)
    """
    from intercom_sync.commands.sync_cmd import run_sync

    settings = load(
        config,
        {
            "store_url": store,
            "base_url": base_url,
            "resources": split_list(streams),
            "api_version": api_version,
            "api_rate_limit": rate_limit,
            "num_workers": workers,
        },
    )
    outcome = run_sync(settings, full=full, console=console)
    raise typer.Exit(outcome.exit_code)


@app.command()
def verify(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL (overrides region).")
    ] = None,
    streams: Annotated[
        str | None,
        typer.Option("--streams", help="Comma-separated streams (default: every counted one)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")] = False,
) -> None:
    """Compare the store with Intercom's own counts, per stream, and say where they differ.

    Intercom's search counts the records of any span of updated_at; verify counts the
    store's over the same spans up to each stream's cursor, and narrows every disagreement
    down to the spans that hold it. It writes nothing but the result (shown by `status`
    and the dashboard); the next `sync` re-reads what disagrees.

    Exit 0 when every checked stream agrees, 1 when one does not (or Intercom cannot be
    reached), 2 for a rejected token or bad configuration.
    """
    from intercom_sync.commands.verify_cmd import run_verify

    settings = load(
        config,
        {"store_url": store, "base_url": base_url, "resources": split_list(streams)},
    )
    raise typer.Exit(run_verify(settings, console=console, as_json=as_json))


@app.command()
def status(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Per stream: rows, last successful sync, cursor, errors and completeness flags."""
    from intercom_sync.commands.status_cmd import render_status, status_json, store_status
    from intercom_sync.store import open_store

    settings = load(config, {"store_url": store})
    opened = open_store(settings.store.url)
    try:
        report = store_status(opened)
    finally:
        opened.close()
    if as_json:
        typer.echo(status_json(report))
    else:
        render_status(console, report, settings.store.redacted_url)


@app.command()
def check(
    config: ConfigOpt = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="API base URL (overrides region).")
    ] = None,
) -> None:
    """Verify the token and report, per stream, whether it is readable.

    Exit 0 when a sync could read every stream it needs (tickets are optional: without
    their permission a sync skips them with a warning), 3 when a required stream is not
    readable, 2 when the token is rejected or the configuration is bad.
    """
    from intercom_sync.client.errors import AuthenticationError, IntercomError, UnreachableError
    from intercom_sync.config import ConfigError
    from intercom_sync.engine.access_check import check as run_check
    from intercom_sync.engine.messages import (
        first_request_message,
        token_message,
        unreachable_message,
    )

    settings = load(config, {"base_url": base_url})
    try:
        report = asyncio.run(run_check(settings))
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    except AuthenticationError:
        fail(token_message(), EXIT_USAGE)
    except UnreachableError as error:
        fail(unreachable_message(error, settings.api_host()), EXIT_FAILED)
    except IntercomError as error:
        fail(first_request_message(error, settings.api_host()), EXIT_FAILED)
    console.print(
        f"Token accepted: admin {escape(report.admin)}, workspace {escape(report.workspace)}"
    )
    table = Table(title_justify="left")
    for column in ("stream", "readable", "permission", "detail"):
        table.add_column(column, overflow="fold")
    for s in report.streams:
        mark = "[green]yes[/]" if s.readable else "[red]no[/]"
        table.add_row(s.stream, mark, s.permission, escape(s.detail))
    console.print(table)
    raise typer.Exit(EXIT_OK if report.all_readable else EXIT_PARTIAL)


@app.command()
def demo(
    scale: Annotated[str, typer.Option("--scale", help="tiny | small | medium | large")] = "small",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated workspace.")] = 1,
    store_path: Annotated[
        Path, typer.Option("--store-path", help="Where to write the store.")
    ] = Path("demo.db"),
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard at the end.")
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Dashboard port (127.0.0.1).")] = 8765,
) -> None:
    """Sync a simulated workspace into ./demo.db and show what it holds — no token needed."""
    from intercom_sync.commands.demo_cmd import claim_port, run_demo, serve_demo_dashboard

    # The port is claimed before the sync, so a taken one fails now, not minutes later.
    sock = claim_port(port) if serve else None
    try:
        outcome, clock = run_demo(
            console, store_path=store_path, scale=scale, seed=seed, full=False
        )
        if outcome.exit_code != EXIT_OK:
            raise typer.Exit(outcome.exit_code)
        if sock is not None:
            serve_demo_dashboard(console, store_path, clock, sock)
    finally:
        if sock is not None:
            sock.close()


def _register_other_commands() -> None:
    """The simulator's command, and the dashboard's (serve, query)."""
    from intercom_sync.commands.dashboard_cmd import query, serve
    from intercom_sync.simulator.serve.cli import simulate

    app.command(name="simulate")(simulate)
    app.command(name="serve")(serve)
    app.command(name="query")(query)


_register_other_commands()


def main() -> None:
    from intercom_sync.store.problems import StoreUnavailable

    try:
        app()
    except StoreUnavailable as error:
        if _state["debug"]:
            raise
        print_error(str(error))
        raise SystemExit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; the next sync resumes where this one stopped")
        raise SystemExit(130) from None
    except Exception as error:
        if _state["debug"]:
            raise
        Console(stderr=True, highlight=False).print(
            f"[bold red]internal error:[/] {escape(repr(error))} — run with --debug for the "
            "traceback, and please report it"
        )
        raise SystemExit(EXIT_FAILED) from None
