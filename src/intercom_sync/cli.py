"""The `intercom-sync` command line."""

from __future__ import annotations

import typer

from intercom_sync import __version__

app = typer.Typer(
    name="intercom-sync",
    help="Copy a whole Intercom workspace into a local analytics store, and read it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"intercom-sync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Copy a whole Intercom workspace into a local analytics store, and read it."""


def main() -> None:
    app()
