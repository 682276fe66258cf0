"""The companies scroll, with the rules real syncs trip on.

* One open scroll per workspace: opening another while one is open is a 400
  `scroll_exists` (when `single_scroll` is on).
* A scroll idle for `idle_expiry_seconds` expires; its `scroll_param` is then a 404.
* Every page of a scroll carries the SAME `scroll_param`; the position lives on
  the server, so a page whose response was lost cannot be fetched again — the
  next request gets the next page (a client must restart the scroll).
* The end is a page with empty `data`, which closes the scroll.

A scroll snapshots the company ids when it opens and reads each company as it
is when its page is served (companies deleted meanwhile are skipped).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from intercom_sync.clock import Clock
from intercom_sync.simulator.api.errors import ApiError, not_found


@dataclass
class Scroll:
    param: str
    ids: list[str]
    position: int = 0
    last_used: float = 0.0


@dataclass
class ScrollRules:
    single_scroll: bool = True
    idle_expiry_seconds: float = 60.0
    page_size: int = 100


@dataclass
class ScrollStats:
    opened: int = 0
    expired: int = 0
    completed: int = 0
    max_open: int = 0
    refused: int = 0  # scroll_exists answers


@dataclass
class ScrollPage:
    param: str
    ids: list[str]  # empty on the final page


@dataclass
class ScrollRegistry:
    """Open scrolls of one workspace."""

    clock: Clock
    rules: ScrollRules = field(default_factory=ScrollRules)
    seed: int = 0
    stats: ScrollStats = field(default_factory=ScrollStats)
    _open: dict[str, Scroll] = field(default_factory=dict)
    _counter: int = 0

    def page(
        self, scroll_param: str | None, company_ids: Callable[[], Sequence[str]]
    ) -> ScrollPage:
        """Serve the next page: open a scroll when `scroll_param` is None."""
        self._expire_idle()
        scroll = self._continue(scroll_param) if scroll_param else self._start(company_ids())
        scroll.last_used = self.clock.now()
        size = max(1, self.rules.page_size)
        ids = scroll.ids[scroll.position : scroll.position + size]
        scroll.position += len(ids)
        if not ids:
            del self._open[scroll.param]
            self.stats.completed += 1
        return ScrollPage(scroll.param, ids)

    def abort(self, scroll_param: str) -> bool:
        """Drop a scroll (after a server error the client must restart)."""
        return self._open.pop(scroll_param, None) is not None

    @property
    def open_count(self) -> int:
        self._expire_idle()
        return len(self._open)

    def _start(self, ids: Sequence[str]) -> Scroll:
        if self.rules.single_scroll and self._open:
            self.stats.refused += 1
            raise ApiError(
                400,
                "scroll_exists",
                "scroll already exists for this workspace; "
                "finish it or wait for it to expire before starting another",
            )
        scroll = Scroll(param=self._new_param(), ids=list(ids))
        self._open[scroll.param] = scroll
        self.stats.opened += 1
        self.stats.max_open = max(self.stats.max_open, len(self._open))
        return scroll

    def _continue(self, scroll_param: str) -> Scroll:
        scroll = self._open.get(scroll_param)
        if scroll is None:
            raise not_found("scroll parameter not found; it has expired or was completed")
        return scroll

    def _expire_idle(self) -> None:
        now = self.clock.now()
        limit = self.rules.idle_expiry_seconds
        for param in [p for p, s in self._open.items() if now - s.last_used > limit]:
            del self._open[param]
            self.stats.expired += 1

    def _new_param(self) -> str:
        """Deterministic UUID-looking scroll params (same seed, same sequence)."""
        self._counter += 1
        digest = hashlib.blake2b(f"scroll:{self.seed}:{self._counter}".encode(), digest_size=16)
        return str(uuid.UUID(bytes=digest.digest(), version=4))
