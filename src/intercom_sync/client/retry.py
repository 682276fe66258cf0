"""When to retry a failed request, and how long to wait first.

Pure: the random source is injected, so a seeded `random.Random` gives an exact,
testable sequence of delays. The policy never sleeps; the client does.

Transient failures (5xx, timeouts, resets, bad bodies) back off exponentially
with *full jitter* — a uniform draw between 0 and the capped exponential — so
many workers that failed together do not retry together. Rate-limited
responses (429) are not backed off here at all: the shared rate governor
already blocks every worker until the server's window resets, so the policy
only counts them against their own, larger budget.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from intercom_sync.client.errors import IntercomError, RateLimitedError, TransientError

RETRYABLE: tuple[type[IntercomError], ...] = (TransientError, RateLimitedError)


def is_retryable(error: BaseException) -> bool:
    """Only transient failures and rate limiting are worth another attempt."""
    return isinstance(error, RETRYABLE)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with full jitter, bounded in attempts and total wait.

    `max_attempts` counts every attempt at a request (the first one included)
    that ended in a transient failure; `max_rate_limited` counts 429s, which
    cost only a window's wait each. `max_total_wait` bounds the seconds spent
    backing off for one request.
    """

    max_attempts: int = 8
    max_rate_limited: int = 30
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_total_wait < 0:
            raise ValueError("delays must not be negative")

    def ceiling(self, attempt: int) -> float:
        """The largest delay after the `attempt`-th failure (1-based)."""
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        exponent = min(attempt - 1, 62)  # 2**62 is already far past any cap
        return float(min(self.max_delay, self.base_delay * (2**exponent)))

    def delay(self, attempt: int) -> float:
        """A jittered delay in [0, ceiling(attempt)] after the `attempt`-th failure."""
        return self.rng.uniform(0.0, self.ceiling(attempt))

    def start(self) -> RetryState:
        """Fresh bookkeeping for one request."""
        return RetryState(self)


@dataclass
class RetryState:
    """The retry history of one request: failures seen and seconds waited."""

    policy: RetryPolicy
    transient_failures: int = 0
    rate_limited: int = 0
    waited: float = 0.0

    @property
    def attempts(self) -> int:
        return self.transient_failures + self.rate_limited

    def next_wait(self, error: BaseException) -> float | None:
        """Record `error`; return seconds to wait before retrying, or None to give up."""
        if isinstance(error, RateLimitedError):
            self.rate_limited += 1
            return 0.0 if self.rate_limited < self.policy.max_rate_limited else None
        if not isinstance(error, TransientError):
            return None
        self.transient_failures += 1
        if self.transient_failures >= self.policy.max_attempts:
            return None
        remaining = self.policy.max_total_wait - self.waited
        if remaining <= 0:
            return None
        wait = min(self.policy.delay(self.transient_failures), remaining)
        self.waited += wait
        return wait
