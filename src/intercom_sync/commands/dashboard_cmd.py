"""`intercom-sync serve` and `intercom-sync query`: the commands that read the store for
dashboards (the app itself is `intercom_sync.web`; `intercom_sync.cli` registers these).

The store URL is resolved like every command's settings (`--store`, else
`INTERCOM_SYNC_STORE_URL`, else `[store] url` of the config file, else the default).
Dashboards are the built-in `support` plus any `[dashboards.<id>]` in the config file.
"""

from __future__ import annotations

import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from intercom_sync.clock import Clock, OffsetClock, SystemClock
from intercom_sync.commands.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    ConfigOpt,
    StoreOpt,
    print_error,
)
from intercom_sync.config import ConfigError, Settings, load_settings
from intercom_sync.engine.sync import sync
from intercom_sync.metrics.durations import parse_duration
from intercom_sync.metrics.model import Config, config_from_mapping
from intercom_sync.metrics.options import check_filters
from intercom_sync.metrics.support import support_config
from intercom_sync.metrics.validate import DefinitionError
from intercom_sync.metrics.view import INBOX_HOSTS, View, ViewError, parse_view
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store import Store, StoreUnavailable, apply_indexes, open_store
from intercom_sync.store.connect import is_postgres_url, sqlite_path
from intercom_sync.store.readonly import QueryRefused, run_readonly
from intercom_sync.web.background import SyncFn
from intercom_sync.web.server import is_loopback, prepare_server, run_forever

TOKEN_ENV = "INTERCOM_SYNC_DASHBOARD_TOKEN"  # noqa: S105 - a variable name

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Show figures as of this UTC time (2026-01-01T00:00:00Z) or 'latest' (the newest "
        "conversation in the store); default: now.",
    ),
]


def _fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    print_error(message)
    return typer.Exit(code)


# -- settings --------------------------------------------------------------------------------


def resolve_settings(flag: str | None, config: str | None) -> Settings:
    try:
        return load_settings(config, overrides={"store_url": flag})
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def resolve_store_url(flag: str | None, config: str | None) -> str:
    return resolve_settings(flag, config).store.url


def dashboards_config(settings: Settings) -> Config:
    """The built-in support dashboard plus the file's `[dashboards]` (which win on an id)."""
    try:
        return support_config().merged(config_from_mapping({"dashboards": settings.dashboards}))
    except DefinitionError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _open(url: str) -> Store:
    if not is_postgres_url(url):
        path = Path(sqlite_path(url))
        if not path.is_file():
            raise _fail(f"no store at {path}: run `intercom-sync sync` first (or pass --store)")
    try:
        return open_store(url)
    except StoreUnavailable as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except Exception as exc:
        raise _fail(f"cannot open the store: {type(exc).__name__}: {exc}") from None


def ensure_indexes(url: str) -> None:
    """Create the dashboard's indexes if missing (a few seconds, once, on a large store) and
    give SQLite's planner statistics for them (sampled: milliseconds)."""
    try:
        apply_indexes(url, analyze=not is_postgres_url(url))
    except Exception as exc:  # e.g. a read-only PostgreSQL role: still serve, just slower
        err_console.print(
            f"[yellow]warning:[/] dashboard indexes not created ({type(exc).__name__}); "
            "widgets will be slower on large stores."
        )


def resolve_clock(as_of: str | None, store: Store) -> Clock:
    """Real time, or real time shifted so that "now" starts at `as_of`."""
    if as_of is None:
        return SystemClock()
    if as_of == "latest":
        rows = store.query(
            "SELECT MAX(updated_at) FROM entities WHERE entity_type = ? AND deleted_at IS NULL",
            ("intercom_conversation",),
        )
        newest = rows[0][0]
        if newest is None:
            raise _fail("--as-of latest: the store holds no conversations yet", EXIT_USAGE)
        start = int(newest) / 1000 + 1
    else:
        try:
            moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(f"--as-of: not a time: {as_of!r}", EXIT_USAGE) from None
        start = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return OffsetClock(offset=start - time.time())


# -- serve -----------------------------------------------------------------------------------


def serve(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    auth_token: Annotated[
        str | None,
        typer.Option(
            "--auth-token",
            envvar=TOKEN_ENV,
            show_envvar=True,
            help="Require this token (Bearer header, or open the page once with ?token=…).",
        ),
    ] = None,
    sync_every: Annotated[
        str | None,
        typer.Option("--sync-every", help="Also sync in the background every interval, e.g. 15m."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="API base URL for the background sync (overrides region)."),
    ] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Serve the dashboards and their JSON API (127.0.0.1 by default)."""
    settings = resolve_settings(store, config)
    dashboards = dashboards_config(settings)
    url = settings.store.url
    every = _interval(sync_every)
    if base_url is not None and every is None:
        raise _fail("--base-url is for the background sync: add --sync-every 15m", EXIT_USAGE)
    sync_fn = _sync_fn(config, url, base_url) if every is not None else None
    opened = _open(url)
    try:
        ensure_indexes(url)
        clock = resolve_clock(as_of, opened)
        try:
            dashboard = prepare_server(
                opened,
                dashboards,
                host=host,
                port=port,
                clock=clock,
                auth_token=auth_token,
                sync_fn=sync_fn,
                sync_every=every,
                inbox=INBOX_HOSTS[settings.intercom.region],
            )
        except ValueError as exc:
            raise _fail(f"--auth-token: {exc}", EXIT_USAGE) from None
        except OSError as exc:
            raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        _announce(dashboard.url, bool(auth_token), host, dashboards)
        run_forever(dashboard)
    finally:
        opened.close()


def _interval(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise _fail(f"--sync-every: {exc}", EXIT_USAGE) from None


def background_sync(config: str | None, store_url: str, base_url: str | None) -> SyncFn:
    """What `serve --sync-every` runs: one incremental sync with the same settings (read
    again each time, so an edited file takes effect). Raises `ConfigError` at once when
    they could not sync at all, rather than at every interval."""
    overrides = {"store_url": store_url, "base_url": base_url}
    load_settings(config, overrides=overrides).require_token()

    async def run_once() -> None:
        settings = load_settings(config, overrides=overrides)
        outcome = await sync(settings)
        if outcome.status != "succeeded":
            raise RuntimeError("; ".join(outcome.errors) or outcome.status)

    return run_once


def _sync_fn(config: str | None, url: str, base_url: str | None) -> SyncFn:
    try:
        return background_sync(config, url, base_url)
    except ConfigError as exc:
        raise _fail(f"--sync-every: {exc}", EXIT_USAGE) from None


def _announce(url: str, protected: bool, host: str, dashboards: Config) -> None:
    console.print(f"Dashboard: [bold]{url}[/]  ({', '.join(dashboards.dashboards)})")
    console.print(f"JSON API:  {url}api/dashboards")
    if protected:
        console.print("Protected: open it once with ?token=<your token>, or send a Bearer header.")
    elif not is_loopback(host):
        err_console.print(
            f"[yellow]warning:[/] listening on {escape(host)} without --auth-token: "
            "anyone who can reach this port can read the dashboard."
        )
    console.print("Press Ctrl-C to stop.")


# -- query -----------------------------------------------------------------------------------


def query(
    sql: Annotated[
        str | None,
        typer.Argument(
            help='Read-only SQL, e.g. "SELECT state, count(*) FROM conversations GROUP BY state".'
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            "-m",
            help="A widget as dashboard.widget, e.g. support.time_to_first_response.",
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    output: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    as_of: AsOfOpt = None,
    view: Annotated[
        str | None,
        typer.Option(
            "--view",
            help="With --metric: the dashboard's view parameters, e.g. "
            "'range=90d&team=123&compare=year' (range, from, to, compare, team, admin, "
            "channel, tag).",
        ),
    ] = None,
) -> None:
    """Run read-only SQL, or evaluate a named metric, against the store."""
    if (sql is None) == (metric is None):
        raise _fail("give either SQL or --metric dashboard.widget", EXIT_USAGE)
    if output not in ("table", "json", "csv"):
        raise _fail(f"--format must be table, json or csv (got {output!r})", EXIT_USAGE)
    settings = resolve_settings(store, config)
    url = settings.store.url
    if sql is not None:
        if view is not None:
            raise _fail("--view goes with --metric, not with SQL", EXIT_USAGE)
        _print_sql(url, sql, output)
    else:
        assert metric is not None
        _print_metric(url, metric, dashboards_config(settings), output, as_of, view)


def _print_sql(url: str, sql_text: str, output: str) -> None:
    try:
        columns, rows = run_readonly(url, sql_text)
    except FileNotFoundError as exc:
        raise _fail(f"{exc}: run `intercom-sync sync` first (or pass --store)") from None
    except (QueryRefused, StoreUnavailable) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except Exception as exc:  # the driver's message says what is wrong with the SQL
        raise _fail(f"query failed: {exc}") from None
    print_rows(columns, rows, output)


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], output: str) -> None:
    if output == "json":
        records = [dict(zip(columns, r, strict=True)) for r in rows]
        typer.echo(orjson.dumps(records, default=str, option=orjson.OPT_INDENT_2).decode())
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table(*[escape(c) for c in columns])
        for row in rows:
            table.add_row(*[escape("" if v is None else str(v)) for v in row])
        console.print(table)


def _print_metric(
    url: str, name: str, dashboards: Config, output: str, as_of: str | None, view: str | None
) -> None:
    dashboard_id, _, widget_id = name.partition(".")
    dashboard = dashboards.dashboards.get(dashboard_id)
    if dashboard is None or widget_id not in dashboard.widgets:
        known = ", ".join(f"{d.id}.{w}" for d in dashboards.dashboards.values() for w in d.widgets)
        raise _fail(f"no metric {name!r}; known: {known}", EXIT_USAGE)
    opened = _open(url)
    try:
        now_ms = int(resolve_clock(as_of, opened).now() * 1000)
        chosen = _view(opened, view, now_ms)
        body = evaluate_widget(opened, dashboard.widgets[widget_id], chosen)
    finally:
        opened.close()
    if output == "json":
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return
    print_rows(*widget_rows(body), output)


def _view(store: Store, text: str | None, now_ms: int) -> View:
    """`--view` as the page's URL would carry it (`as_of` comes from --as-of)."""
    params = dict(parse_qsl(text or "", keep_blank_values=True))
    if "as_of" in params:
        raise _fail("--view: give the moment with --as-of, not as_of=", EXIT_USAGE)
    try:
        view = parse_view(params, now_ms)
        check_filters(store, "intercom", view.filters)
    except ViewError as exc:
        raise _fail(f"--view: {exc}", EXIT_USAGE) from None
    return view


def widget_rows(body: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A widget body as one table."""
    kind = body["kind"]
    if kind == "stat":
        return ["label", "value", "previous"], [
            (v["label"], v["value"], v.get("previous")) for v in body["values"]
        ]
    if kind == "timeseries":
        names = [s["name"] for s in body["series"]]
        rows = [(x, *[s["y"][i] for s in body["series"]]) for i, x in enumerate(body["x"])]
        return ["bucket", *names], rows
    if kind == "distribution":
        return [body["dimension"], "value"], [(i["label"], i["value"]) for i in body["items"]]
    return list(body["columns"]), [tuple(r) for r in body["rows"]]
