"""What every command shares: loading settings, one-line errors, exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from intercom_sync.config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", "-c", help="Path to intercom-sync.toml (default: ./intercom-sync.toml)."
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store URL: sqlite:///path.db or postgresql://… (store.url)."),
]

err_console = Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """`error: <message>` as one line on stderr: never wrapped, never read as markup (a
    message may quote `[intercom]`)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """One clear line on stderr, a non-zero exit, no traceback."""
    print_error(message)
    raise typer.Exit(code)


def load(config: str | None, overrides: Mapping[str, Any], cwd: str | None = None) -> Settings:
    try:
        return load_settings(config, overrides=dict(overrides), cwd=cwd)
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)


def setup_logging(debug: bool, verbose: bool = False) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # httpx logs every request URL at INFO; the client logs what matters itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
