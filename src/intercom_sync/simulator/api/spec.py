"""How the simulated service behaves: quirks, rate limits, faults and tokens.

Plain dataclasses shared by the HTTP app, the CLI and the tests; `SimulatorConfig`
bundles them with the `WorldSpec` of the workspace served. Faults are deterministic
from `FaultSpec.seed`, as the workspace is from `WorldSpec.seed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from intercom_sync.simulator.world.spec import WorldSpec

# Scopes a token can hold, named after Intercom's Developer Hub permissions.
SCOPES: tuple[str, ...] = (
    "read_admins",  # GET /admins, /me
    "read_users_companies",  # contacts, companies, segments, data attributes, teams
    "read_conversations",  # conversations search and retrieve
    "read_tags",  # GET /tags
    "read_tickets",  # tickets search
    "read_activity_logs",  # GET /admins/activity_logs
)


@dataclass(frozen=True)
class Quirks:
    """The real service's behaviours that trip syncs up (DESIGN §5). All on by default."""

    # Contact search compares dates by calendar day in the workspace time zone.
    contact_search_by_day: bool = True
    # Search results reflect writes only after this many seconds.
    search_lag_seconds: float = 120.0
    # What `starting_after` points at — Intercom documents it only as "a pointer":
    # "keyset": strictly after the last (updated_at, id) returned, so a record that moves
    # between pages cannot shift the others; "positional": an offset into the sorted result
    # set as it is when the next page is asked for, so it can.
    search_cursor: Literal["keyset", "positional"] = "keyset"
    # A record written within the index lag is absent from search while it is re-indexed,
    # instead of still showing its previous version.
    reindex_hides: bool = False
    # The index has stalled: it shows the workspace as it was this many seconds (on top of
    # the lag) before the server's clock, which its `Date` headers still tell.
    search_stall_seconds: float = 0.0
    # GET /conversations/{id} returns only the most recent N parts.
    parts_cap: int | None = 500
    # One company scroll per workspace; it expires after this much idle time.
    single_scroll: bool = True
    scroll_idle_expiry_seconds: float = 60.0
    scroll_page_size: int = 100
    # Activity logs need created_at_after, come newest first, page by URL.
    activity_logs_strict: bool = True
    # Company objects (scroll, GET /companies/{id}, a contact's companies) carry their
    # complete `segments` list, as the 2.11 and 2.14 company schema has it. Off: they lack
    # it, and GET /companies/{id}/segments is the only way to learn them.
    company_segments_embedded: bool = True


@dataclass(frozen=True)
class RateLimitSpec:
    """Intercom's limits: per app per minute over 10-second windows, plus a workspace cap."""

    enabled: bool = True
    per_minute: int = 10_000
    workspace_per_minute: int = 25_000
    window_seconds: int = 10


@dataclass(frozen=True)
class FaultSpec:
    """Seeded failures. Rates are probabilities per request (0..1)."""

    seed: int = 7
    latency_ms: float = 0.0
    latency_mode: Literal["fixed", "jitter", "longtail"] = "fixed"
    error_500: float = 0.0
    error_502: float = 0.0
    error_503: float = 0.0
    connection_reset: float = 0.0
    truncated_body: float = 0.0
    invalid_json: float = 0.0
    # Probability per request that a 429 storm starts, and how many requests it lasts.
    storm_rate: float = 0.0
    storm_length: int = 20
    # Bodies trickle out in chunks with this delay between them.
    slow_body_ms: float = 0.0

    @property
    def any(self) -> bool:
        return any(
            (
                self.latency_ms,
                self.error_500,
                self.error_502,
                self.error_503,
                self.connection_reset,
                self.truncated_body,
                self.invalid_json,
                self.storm_rate,
                self.slow_body_ms,
            )
        )


@dataclass(frozen=True)
class TokenSpec:
    """An access token the simulator accepts, and what it may read."""

    scopes: frozenset[str] = frozenset(SCOPES)
    # How a missing permission is reported: 401 token_unauthorized, or 403.
    denial: Literal["401", "403"] = "401"
    # Tokens of the same workspace share the workspace-wide rate cap.
    app_id: str = "app-1"


DEFAULT_TOKEN = "sim-token-0123456789abcdef"  # noqa: S105 - a fake token for the simulator


@dataclass(frozen=True)
class SimulatorConfig:
    world: WorldSpec = field(default_factory=WorldSpec)
    quirks: Quirks = field(default_factory=Quirks)
    rate_limit: RateLimitSpec = field(default_factory=RateLimitSpec)
    faults: FaultSpec = field(default_factory=FaultSpec)
    tokens: dict[str, TokenSpec] = field(default_factory=lambda: {DEFAULT_TOKEN: TokenSpec()})
