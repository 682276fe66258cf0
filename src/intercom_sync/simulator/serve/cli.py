"""The `intercom-sync simulate` command: serve a seeded workspace on 127.0.0.1.

`simulate` is a typer-annotated function; the main CLI registers it with
`app.command()(simulate)`.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any, Literal, get_type_hints

import typer

from intercom_sync.clock import OffsetClock
from intercom_sync.simulator.api.spec import (
    DEFAULT_TOKEN,
    FaultSpec,
    Quirks,
    RateLimitSpec,
    SimulatorConfig,
)
from intercom_sync.simulator.world.spec import PRESETS, WorldSpec


def parse_faults(text: str, base: FaultSpec | None = None) -> FaultSpec:
    """`"error_500=0.1,connection_reset=0.05,latency_mode=jitter"` → a FaultSpec."""
    spec = base or FaultSpec()
    if not text.strip():
        return spec
    hints = get_type_hints(FaultSpec)
    changes: dict[str, Any] = {}
    for item in text.split(","):
        name, sep, raw = (part.strip() for part in item.partition("="))
        if not sep or name not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(FaultSpec))
            raise typer.BadParameter(
                f"{item.strip()!r}: expected name=value with a name from {known}"
            )
        changes[name] = _convert(name, raw, hints[name])
    try:
        return dataclasses.replace(spec, **changes)
    except TypeError as error:
        raise typer.BadParameter(str(error)) from None


def _convert(name: str, raw: str, hint: Any) -> Any:
    if name == "latency_mode":
        if raw not in ("fixed", "jitter", "longtail"):
            raise typer.BadParameter("latency_mode must be fixed, jitter or longtail")
        return raw
    try:
        return int(raw) if hint is int else float(raw)
    except ValueError:
        raise typer.BadParameter(f"{name} needs a number (got {raw!r})") from None


def _cursor_mode(value: str) -> Literal["keyset", "positional"]:
    if value == "keyset":
        return "keyset"
    if value == "positional":
        return "positional"
    raise typer.BadParameter(f"must be keyset or positional (got {value!r})")


def build_config(
    *,
    seed: int,
    scale: str,
    counts: dict[str, int | None],
    rate_limit: int,
    workspace_rate_limit: int,
    latency_ms: float,
    faults: str,
    quirks: Quirks,
    now: int | None = None,
) -> SimulatorConfig:
    """The simulator's settings; `now` (Unix seconds) is where the workspace's history
    ends (default: the preset's fixed moment, as the tests use)."""
    if scale not in PRESETS:
        raise typer.BadParameter(f"unknown scale {scale!r}; choose one of {', '.join(PRESETS)}")
    overrides: dict[str, int | str] = {k: v for k, v in counts.items() if v is not None}
    if now is not None:
        overrides["now"] = now
    world = WorldSpec.preset(scale, seed=seed, **overrides)
    limits = RateLimitSpec(
        enabled=rate_limit > 0,
        per_minute=max(rate_limit, 1),
        workspace_per_minute=max(workspace_rate_limit, 1),
    )
    fault_spec = parse_faults(faults, FaultSpec(latency_ms=latency_ms))
    return SimulatorConfig(world=world, quirks=quirks, rate_limit=limits, faults=fault_spec)


def parse_now(text: str | None) -> int:
    """`--now`: an ISO time (UTC unless it says otherwise) or Unix seconds; default: now."""
    if text is None:
        return int(time.time())
    if text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not a time: {text!r} (e.g. 2026-01-01T00:00:00Z)") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def simulate(
    port: int = typer.Option(8000, help="Port on 127.0.0.1 (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; keep it on loopback."),
    seed: int = typer.Option(1, help="Seed of the generated workspace."),
    scale: str = typer.Option("small", help="Workspace size: tiny, small, medium or large."),
    admins: int | None = typer.Option(None, help="Override the number of admins."),
    teams: int | None = typer.Option(None, help="Override the number of teams."),
    tags: int | None = typer.Option(None, help="Override the number of tags."),
    segments: int | None = typer.Option(None, help="Override the number of segments."),
    companies: int | None = typer.Option(None, help="Override the number of companies."),
    contacts: int | None = typer.Option(None, help="Override the number of contacts."),
    conversations: int | None = typer.Option(None, help="Override the number of conversations."),
    tickets: int | None = typer.Option(None, help="Override the number of tickets."),
    activity_logs: int | None = typer.Option(None, help="Override the number of activity logs."),
    rate_limit: int = typer.Option(10_000, help="Requests per minute per app (0: unlimited)."),
    workspace_rate_limit: int = typer.Option(25_000, help="Requests per minute, all apps."),
    latency_ms: float = typer.Option(0.0, help="Added latency per request, in milliseconds."),
    faults: str = typer.Option(
        "",
        help="Faults as name=value pairs, e.g. 'error_500=0.1,connection_reset=0.05,"
        "truncated_body=0.05,storm_rate=0.01,latency_mode=jitter,seed=7'.",
    ),
    search_lag: float = typer.Option(120.0, help="Seconds before writes show in search."),
    search_cursor: str = typer.Option(
        "keyset",
        help="What starting_after points at: keyset (after the last record returned) or "
        "positional (an offset into the result set as it is then).",
    ),
    reindex_hides: bool = typer.Option(
        False, help="A record written within the lag is absent from search, not its old version."
    ),
    search_stall: float = typer.Option(
        0.0, help="Seconds the search index is stalled behind the server's clock (beyond the lag)."
    ),
    parts_cap: int = typer.Option(500, help="Parts returned per conversation (0: no cap)."),
    contact_day_search: bool = typer.Option(
        True, help="Contact search compares dates by calendar day."
    ),
    single_scroll: bool = typer.Option(True, help="Allow one companies scroll at a time."),
    scroll_expiry: float = typer.Option(60.0, help="Seconds an idle scroll lives."),
    scroll_page_size: int = typer.Option(100, help="Companies per scroll page."),
    strict_activity_logs: bool = typer.Option(
        True, help="Activity logs need created_at_after, come newest first, page by URL."
    ),
    company_segments: bool = typer.Option(
        True, help="Company objects embed their segments (else only /companies/{id}/segments)."
    ),
    now: str | None = typer.Option(
        None,
        help="Where the workspace's history ends (ISO time or Unix seconds); default: the "
        "moment it starts, so the data is as fresh as a live workspace's.",
    ),
) -> None:
    """Serve a simulated Intercom workspace on 127.0.0.1 until Ctrl-C.

    It answers the Intercom REST API (2.11, or 2.12 to 2.14 with an
    Intercom-Version header) with seeded data, Intercom's quirks, rate limits and optional
    faults. It prints the base URL and the access token to use; /_sim/* lets
    tests read the ground truth, move the clock and mutate the workspace.
    """
    from intercom_sync.simulator.serve.server import serve
    from intercom_sync.simulator.serve.simulator import Simulator

    quirks = Quirks(
        contact_search_by_day=contact_day_search,
        search_lag_seconds=search_lag,
        search_cursor=_cursor_mode(search_cursor),
        reindex_hides=reindex_hides,
        search_stall_seconds=search_stall,
        parts_cap=parts_cap or None,
        single_scroll=single_scroll,
        scroll_idle_expiry_seconds=scroll_expiry,
        scroll_page_size=scroll_page_size,
        activity_logs_strict=strict_activity_logs,
        company_segments_embedded=company_segments,
    )
    counts = {
        "admins": admins,
        "teams": teams,
        "tags": tags,
        "segments": segments,
        "companies": companies,
        "contacts": contacts,
        "conversations": conversations,
        "tickets": tickets,
        "activity_logs": activity_logs,
    }
    config = build_config(
        seed=seed,
        scale=scale,
        counts=counts,
        rate_limit=rate_limit,
        workspace_rate_limit=workspace_rate_limit,
        latency_ms=latency_ms,
        faults=faults,
        quirks=quirks,
        now=parse_now(now),
    )
    # The simulated clock starts where the history ends and runs in real time.
    sim = Simulator(config, clock=OffsetClock(offset=config.world.now - time.time()))

    def announce(base_url: str) -> None:
        typer.echo(f"Simulated Intercom workspace ({scale}, seed {seed})")
        typer.echo(f"  base URL:     {base_url}")
        typer.echo(f"  access token: {DEFAULT_TOKEN}")
        typer.echo(
            "  control:      /_sim/truth /_sim/clock /_sim/mutate /_sim/stats (Ctrl-C stops)"
        )

    serve(sim, host=host, port=port, log_level="warning", announce=announce)
