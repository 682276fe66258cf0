"""Backoff policy: exact delays from a seeded random source, and the retry budget."""

from __future__ import annotations

import random

import pytest

from intercom_sync.client.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TransientError,
)
from intercom_sync.client.retry import RetryPolicy, is_retryable


def transient() -> TransientError:
    return TransientError("Service Unavailable", kind="http_503", status=503)


def test_ceilings_grow_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    assert [policy.ceiling(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert policy.ceiling(500) == 30.0  # no overflow for absurd attempt numbers


def test_delays_are_full_jitter_draws_from_the_injected_random_source() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0, rng=random.Random(1))
    delays = [round(policy.delay(n), 6) for n in range(1, 9)]
    # random.Random(1), uniform(0, ceiling) for each attempt in turn.
    assert delays == [
        0.067182,
        0.847434,
        1.527549,
        1.020276,
        3.963481,
        7.191857,
        19.547789,
        23.661701,
    ]


def test_the_same_seed_gives_the_same_sequence_and_another_seed_does_not() -> None:
    def sequence(seed: int) -> list[float]:
        policy = RetryPolicy(rng=random.Random(seed))
        return [policy.delay(n) for n in range(1, 7)]

    assert sequence(9) == sequence(9)
    assert sequence(9) != sequence(10)
    policy = RetryPolicy(rng=random.Random(3))
    for attempt in range(1, 50):
        assert 0.0 <= policy.delay(attempt) <= policy.ceiling(attempt)


def test_transient_failures_are_retried_until_max_attempts() -> None:
    state = RetryPolicy(max_attempts=4, rng=random.Random(2)).start()
    waits = [state.next_wait(transient()) for _ in range(4)]
    assert all(w is not None and w >= 0 for w in waits[:3])
    assert waits[3] is None  # the fourth failure was the last attempt
    assert state.transient_failures == 4


def test_total_wait_is_bounded() -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=10, max_delay=10, max_total_wait=25)
    state = policy.start()
    waits = []
    while (wait := state.next_wait(transient())) is not None:
        waits.append(wait)
    assert sum(waits) <= 25.0 + 1e-9
    assert state.waited == pytest.approx(sum(waits))


def test_rate_limits_do_not_back_off_but_have_their_own_budget() -> None:
    state = RetryPolicy(max_attempts=2, max_rate_limited=5).start()
    error = RateLimitedError("rate limit exceeded", status=429)
    assert [state.next_wait(error) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, None]
    # 429s did not use up the transient budget.
    assert state.next_wait(transient()) is not None


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("Intercom rejected the access token", status=401),
        PermissionDeniedError("nope", status=403),
        NotFoundError("gone", status=404),
        BadRequestError("bad", status=400),
        ValueError("not even an Intercom error"),
    ],
)
def test_everything_else_is_not_retried(error: Exception) -> None:
    assert not is_retryable(error)
    assert RetryPolicy().start().next_wait(error) is None


def test_transient_and_rate_limited_are_retryable() -> None:
    assert is_retryable(transient())
    assert is_retryable(RateLimitedError("slow down", status=429))


def test_nonsense_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)
    with pytest.raises(ValueError):
        RetryPolicy().ceiling(0)
