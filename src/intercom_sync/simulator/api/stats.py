"""What the simulator served: tests assert request counts from these, benchmarks report them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.simulator.api.scroll import ScrollStats


@dataclass
class SimStats:
    """Counters since start (or the last `reset`).

    `requests` counts every API request per endpoint ("GET /conversations/{id}"),
    whatever its outcome; `ok` counts the 2xx answers per endpoint.
    """

    requests: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0  # 429s because the window was used up (not storms)
    unauthorized: int = 0  # 401s for a missing or unknown token
    in_flight: int = 0
    max_in_flight: int = 0
    scrolls: ScrollStats = field(default_factory=ScrollStats)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def too_many_requests(self) -> int:
        """Every 429 answered, from the limiter or a storm."""
        return self.statuses[429]

    @property
    def conversation_gets(self) -> int:
        return self.ok["GET /conversations/{id}"]

    @property
    def search_pages(self) -> int:
        return sum(count for name, count in self.ok.items() if name.endswith("/search"))

    @property
    def scrolls_opened(self) -> int:
        return self.scrolls.opened

    @property
    def max_concurrent_scrolls(self) -> int:
        return self.scrolls.max_open

    def began(self, endpoint: str) -> None:
        self.requests[endpoint] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def ended(self, endpoint: str, status: int) -> None:
        self.in_flight -= 1
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.ok[endpoint] += 1

    def reset(self) -> None:
        """Zero every counter (requests still in flight stay counted as in flight)."""
        in_flight = self.in_flight
        fresh = SimStats()
        for name in ("requests", "ok", "statuses", "faults"):
            getattr(self, name).clear()
        self.rate_limited = fresh.rate_limited
        self.unauthorized = fresh.unauthorized
        self.max_in_flight = in_flight
        for name, value in vars(ScrollStats()).items():
            setattr(self.scrolls, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_requests": self.total_requests,
            "requests": dict(sorted(self.requests.items())),
            "ok": dict(sorted(self.ok.items())),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "faults": dict(sorted(self.faults.items())),
            "rate_limited": self.rate_limited,
            "too_many_requests": self.too_many_requests,
            "unauthorized": self.unauthorized,
            "conversation_gets": self.conversation_gets,
            "search_pages": self.search_pages,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "scrolls_opened": self.scrolls.opened,
            "scrolls_completed": self.scrolls.completed,
            "scrolls_expired": self.scrolls.expired,
            "scrolls_refused": self.scrolls.refused,
            "max_concurrent_scrolls": self.scrolls.max_open,
        }
