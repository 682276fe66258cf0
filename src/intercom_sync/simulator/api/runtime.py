"""The simulator's mutable state, shared by the gateway, the API endpoints and `/_sim/*`.

Settings (quirks, faults, rate limits, tokens) can change while it serves;
everything that depends on them is rebuilt in the setters here, so no request
sees half of a change.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from intercom_sync.clock import Clock
from intercom_sync.simulator.api.faults import FaultInjector
from intercom_sync.simulator.api.fragments import FragmentCache
from intercom_sync.simulator.api.ratelimit import RateLimiter
from intercom_sync.simulator.api.scroll import ScrollRegistry, ScrollRules
from intercom_sync.simulator.api.search import SearchOptions, TotalCountCache
from intercom_sync.simulator.api.search_fields import (
    contact_fields,
    conversation_fields,
    ticket_fields,
)
from intercom_sync.simulator.api.spec import (
    FaultSpec,
    Quirks,
    RateLimitSpec,
    SimulatorConfig,
    TokenSpec,
)
from intercom_sync.simulator.api.stats import SimStats
from intercom_sync.simulator.world.mutations import Mutator
from intercom_sync.simulator.world.world import World

SEARCH_KINDS = ("contacts", "conversations", "tickets")
# Old versions are kept this much longer than the index can be behind.
_HISTORY_MARGIN_SECONDS = 600.0
# Intercom's documented default page sizes per search endpoint.
_DEFAULT_PER_PAGE = {"contacts": 50, "conversations": 20, "tickets": 20}


class RequestIds:
    """Deterministic UUID request ids: same seed and request sequence, same ids."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._count = 0

    def next(self) -> str:
        self._count += 1
        digest = hashlib.blake2b(f"req:{self._seed}:{self._count}".encode(), digest_size=16)
        return str(uuid.UUID(bytes=digest.digest(), version=4))


@dataclass
class Runtime:
    config: SimulatorConfig
    world: World
    clock: Clock
    stats: SimStats = field(default_factory=SimStats)
    totals: TotalCountCache = field(default_factory=TotalCountCache)
    fragments: FragmentCache = field(default_factory=FragmentCache)

    def __post_init__(self) -> None:
        self.tokens: dict[str, TokenSpec] = dict(self.config.tokens)
        self.request_ids = RequestIds(self.config.world.seed)
        self.limiter = RateLimiter(self.config.rate_limit, self.clock)
        self.faults = FaultInjector(self.config.faults)
        self.scrolls = ScrollRegistry(
            clock=self.clock, seed=self.config.world.seed, stats=self.stats.scrolls
        )
        self.mutator = Mutator(self.world, self.config.world.seed)
        self.set_quirks(self.config.quirks)

    # --- settings ------------------------------------------------------------------------

    def set_quirks(self, quirks: Quirks) -> None:
        self.quirks = quirks
        # The index must remember old versions for as long as it can be behind.
        behind = max(0.0, quirks.search_lag_seconds) + max(0.0, quirks.search_stall_seconds)
        self.world.keep_history(behind + _HISTORY_MARGIN_SECONDS)
        self.scrolls.rules = ScrollRules(
            single_scroll=quirks.single_scroll,
            idle_expiry_seconds=quirks.scroll_idle_expiry_seconds,
            page_size=quirks.scroll_page_size,
        )
        self.search_options = self._search_options(quirks)

    def set_faults(self, spec: FaultSpec) -> None:
        self.faults = FaultInjector(spec)

    def set_rate_limit(self, spec: RateLimitSpec) -> None:
        self.limiter.spec = spec

    def add_token(self, token: str, spec: TokenSpec) -> None:
        self.tokens[token] = spec

    # --- derived ---------------------------------------------------------------------------

    def search_as_of(self) -> float:
        """The moment the search index reflects: now minus the index lag (and any stall)."""
        behind = max(0.0, self.quirks.search_lag_seconds) + max(
            0.0, self.quirks.search_stall_seconds
        )
        return self.clock.now() - behind

    def _search_options(self, quirks: Quirks) -> dict[str, SearchOptions]:
        day_zone = ZoneInfo(self.world.spec.timezone) if quirks.contact_search_by_day else None
        return {
            "contacts": SearchOptions(
                "contacts",
                contact_fields(self.world.contact_links),
                _DEFAULT_PER_PAGE["contacts"],
                day_zone=day_zone,
                custom_attributes=True,
            ),
            "conversations": SearchOptions(
                "conversations",
                conversation_fields(),
                _DEFAULT_PER_PAGE["conversations"],
                custom_attributes=True,
            ),
            "tickets": SearchOptions("tickets", ticket_fields(), _DEFAULT_PER_PAGE["tickets"]),
        }
