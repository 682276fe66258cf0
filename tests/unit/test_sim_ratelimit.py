"""The simulator's rate limiter: 10-second windows, headers, the workspace cap."""

from __future__ import annotations

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.api.ratelimit import RateLimiter
from intercom_sync.simulator.service import RateLimitSpec

START = 1_767_225_600.0  # a multiple of 10: the start of a window


def test_window_allows_a_sixth_of_the_minute_then_refuses() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(RateLimitSpec(per_minute=60, workspace_per_minute=1000), clock)
    decisions = [limiter.acquire("app") for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    assert decisions[-1].remaining == 0
    assert {d.limit for d in decisions} == {10}


def test_reset_is_the_end_of_the_current_window_and_the_next_window_is_fresh() -> None:
    clock = ManualClock(START + 3.5)
    limiter = RateLimiter(RateLimitSpec(per_minute=6, workspace_per_minute=1000), clock)
    first = limiter.acquire("app")
    assert first.allowed and first.reset == int(START) + 10
    assert not limiter.acquire("app").allowed
    clock.advance(6.4)  # now START + 9.9: same window
    assert not limiter.acquire("app").allowed
    clock.advance(0.1)  # START + 10: a new window
    fresh = limiter.acquire("app")
    assert fresh.allowed and fresh.remaining == 0 and fresh.reset == int(START) + 20


def test_refused_requests_do_not_use_up_allowance() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(RateLimitSpec(per_minute=12, workspace_per_minute=1000), clock)
    assert limiter.acquire("app").allowed
    assert limiter.acquire("app").allowed
    for _ in range(5):
        assert not limiter.acquire("app").allowed
    clock.advance(10)
    assert limiter.acquire("app").remaining == 1


def test_workspace_cap_is_shared_by_every_app() -> None:
    clock = ManualClock(START)
    spec = RateLimitSpec(per_minute=60, workspace_per_minute=90)  # 10 per app, 15 in all
    limiter = RateLimiter(spec, clock)
    a = [limiter.acquire("a").allowed for _ in range(10)]
    b = [limiter.acquire("b").allowed for _ in range(10)]
    assert all(a)
    assert b == [True] * 5 + [False] * 5
    # Remaining reports the tighter of the two allowances.
    assert limiter.peek("c").remaining == 0
    assert limiter.peek("c").limit == 10


def test_apps_have_separate_allowances_under_the_cap() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(RateLimitSpec(per_minute=60, workspace_per_minute=600), clock)
    for _ in range(10):
        limiter.acquire("a")
    assert not limiter.acquire("a").allowed
    assert limiter.acquire("b").allowed


def test_headers_name_limit_remaining_and_reset() -> None:
    clock = ManualClock(START + 1)
    limiter = RateLimiter(RateLimitSpec(per_minute=10_000), clock)
    headers = limiter.acquire("app").headers()
    assert headers == {
        "X-RateLimit-Limit": "1666",
        "X-RateLimit-Remaining": "1665",
        "X-RateLimit-Reset": str(int(START) + 10),
    }


def test_disabled_limiter_never_refuses_but_still_reports() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(RateLimitSpec(enabled=False, per_minute=6), clock)
    decisions = [limiter.acquire("app") for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert decisions[-1].limit == 1 and decisions[-1].remaining == 0


def test_peek_does_not_consume() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(RateLimitSpec(per_minute=60), clock)
    for _ in range(3):
        assert limiter.peek("app").remaining == 10
    limiter.acquire("app")
    assert limiter.peek("app").remaining == 9
