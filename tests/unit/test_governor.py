"""The shared rate governor, on virtual time.

Most tests drive the pure core (`try_acquire(now)`, `observe(headers, now)`)
through a small discrete-event simulation: workers send through the governor,
each request reaches a model of Intercom's limiter after a random network delay,
which counts it in its 10-second window and answers with `X-RateLimit-*`
headers (or a 429), and the response comes back after another delay. Nothing
here sleeps on the wall clock.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest

from intercom_sync.client.governor import RateGovernor, parse_retry_after
from intercom_sync.clock import ManualClock

START = 1_767_225_600.0  # a multiple of 10: server windows start on it


@dataclass
class ServerModel:
    """Intercom's limiter: `limit` per aligned window, some of it used by another client."""

    limit: int
    window: float = 10.0
    offset: float = 0.0  # where the server's windows start, relative to START
    foreign_per_window: int = 0  # requests another app-token makes at each window start
    counts: Counter[int] = field(default_factory=Counter)
    accepted: list[float] = field(default_factory=list)
    rejected: int = 0

    def window_of(self, t: float) -> int:
        return math.floor((t - START - self.offset) / self.window)

    def reset_of(self, index: int) -> float:
        return START + self.offset + (index + 1) * self.window

    def handle(self, arrival: float) -> tuple[int, dict[str, str]]:
        index = self.window_of(arrival)
        if index not in self.counts:
            self.counts[index] = self.foreign_per_window
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Reset": str(int(self.reset_of(index))),
        }
        if self.counts[index] >= self.limit:
            self.rejected += 1
            headers["X-RateLimit-Remaining"] = "0"
            return 429, headers
        self.counts[index] += 1
        self.accepted.append(arrival)
        headers["X-RateLimit-Remaining"] = str(self.limit - self.counts[index])
        return 200, headers


@dataclass
class Run:
    sends: list[float]
    server: ServerModel
    finished: float


def simulate(
    governor: RateGovernor,
    server: ServerModel,
    *,
    requests: int,
    workers: int,
    latency: tuple[float, float] = (0.05, 0.3),
    seed: int = 3,
) -> Run:
    """Run `requests` requests from `workers` workers; every 429 is retried."""
    rng = random.Random(seed)
    events: list[tuple[float, int, str, int]] = []
    seq = 0

    def push(t: float, kind: str, worker: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, worker))

    for worker in range(workers):
        push(START, "ready", worker)
    done, sends, now = 0, [], START
    while events and done < requests:
        now, _, kind, worker = heapq.heappop(events)
        if kind == "ready":
            if len(sends) - server.rejected >= requests:
                continue
            wait = governor.try_acquire(now)
            if wait > 0:
                push(now + wait, "ready", worker)
                continue
            sends.append(now)
            up, down = (rng.uniform(*latency) / 2 for _ in range(2))
            status, headers = server.handle(now + up)
            push(now + up + down, f"response:{status}:{_encode(headers)}", worker)
        else:
            _, status, encoded = kind.split(":", 2)
            headers = _decode(encoded)
            governor.observe(headers, now)
            if status == "429":
                governor.on_rate_limited(headers, now)
            else:
                done += 1
            push(now, "ready", worker)
    return Run(sends, server, now)


def _encode(headers: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in headers.items())


def _decode(encoded: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in encoded.split(";"))


def max_in_any_interval(times: list[float], length: float) -> int:
    """The most events any half-open interval [t, t + length) contains."""
    ordered = sorted(times)
    best, left = 0, 0
    for right, t in enumerate(ordered):
        while ordered[left] <= t - length:
            left += 1
        best = max(best, right - left + 1)
    return best


def per_aligned_window(times: list[float], offset: float = 0.0) -> Counter[int]:
    return Counter(math.floor((t - START - offset) / 10.0) for t in times)


def governor(per_minute: int, **kw: object) -> RateGovernor:
    return RateGovernor(per_minute, clock=ManualClock(START), rng=random.Random(1), **kw)  # type: ignore[arg-type]


# -- window accounting and pacing --------------------------------------------------


def test_allowance_is_the_budget_spread_over_six_windows() -> None:
    gov = governor(9500)
    assert gov.window_cap == 1583
    assert gov.rate_per_second == pytest.approx(9500 / 60)


def test_a_thousand_acquires_never_overfill_a_window_as_the_server_counts_it() -> None:
    gov = governor(1000)  # 166 per 10-second window
    server = ServerModel(limit=10_000, offset=3.0)  # windows start 3 s off ours
    run = simulate(gov, server, requests=1000, workers=24)

    assert len(run.sends) == 1000
    assert server.rejected == 0
    # However the server aligns its windows, and counting arrivals as it does:
    assert max(per_aligned_window(server.accepted, offset=3.0).values()) <= 166
    assert max(per_aligned_window(server.accepted).values()) <= 166
    # Send times: no 10-second interval at all holds more than the allowance.
    assert max_in_any_interval(run.sends, 10.0) <= 166
    # The budget per minute is honoured over every 60-second interval.
    assert max_in_any_interval(run.sends, 60.0) <= 1000


def test_requests_are_spread_across_the_window_not_burst_at_its_start() -> None:
    gov = governor(1000, burst=4)
    run = simulate(gov, ServerModel(limit=10_000), requests=600, workers=40)
    # 166 per 10 s is 16.6 per second; a burst at a window's start would put
    # dozens into one second.
    assert max_in_any_interval(run.sends, 1.0) <= math.ceil(166 / 10) + 4 + 1
    firsts = per_aligned_window(run.sends)
    assert all(count <= 166 for count in firsts.values())


def test_the_budget_is_actually_used() -> None:
    gov = governor(6000)  # 1000 per window
    run = simulate(gov, ServerModel(limit=10_000), requests=6000, workers=40, latency=(0.1, 0.2))
    elapsed = run.sends[-1] - run.sends[0]
    # 6,000 requests at 100/s need 60 s; learning where the server's windows end costs
    # a little at the first boundary, waiting out a reset margin a little at each.
    assert 6000 / elapsed >= 0.98 * 100
    assert elapsed >= 59.0  # and it never runs faster than the budget


@pytest.mark.parametrize("offset", [0.0, 0.3, 0.7, 0.95, 3.0])
def test_a_server_whose_windows_start_between_whole_seconds_never_says_429(
    offset: float,
) -> None:
    """`X-RateLimit-Reset` says whole seconds; a server clock some tenths of a second off
    ours puts its window ends between them. Trusting the whole second sent the next
    window's requests while the server still counted the old one (9–15 × 429 in a medium
    sync, 30–50 % longer). The governor learns where the windows really end."""
    gov = governor(10_000)
    server = ServerModel(limit=10_000 // 6, offset=offset)
    run = simulate(gov, server, requests=20_000, workers=40, latency=(0.057, 0.172))
    assert server.rejected == 0
    assert run.finished - START <= 20_000 / (10_000 / 60) * 1.02  # and the budget is used


def test_memory_holds_one_windows_sends_not_a_windows_allowance() -> None:
    gov = governor(6_000_000)  # 1,000,000 per window: never reached at 100/s
    now = START
    for _ in range(6000):  # one minute at 100 requests/s
        assert gov.try_acquire(now) == 0.0
        gov.observe({}, now)
        now += 0.01
    assert gov.stats.sent == 6000
    assert 990 <= gov.recorded_sends <= 1001  # the last 10 s, not all 6,000


# -- learning from headers --------------------------------------------------


def test_it_adopts_a_server_limit_smaller_than_the_configured_budget() -> None:
    gov = governor(9500)  # 1583 per window configured
    server = ServerModel(limit=100)
    run = simulate(gov, server, requests=500, workers=16)

    assert gov.server_limit == 100
    assert gov.window_cap == 100
    assert server.rejected == 0
    assert max(per_aligned_window(server.accepted).values()) <= 100
    assert max_in_any_interval(run.sends[20:], 10.0) <= 100


def test_a_larger_server_limit_never_raises_the_configured_budget() -> None:
    gov = governor(600)  # 100 per window
    simulate(gov, ServerModel(limit=1666), requests=300, workers=8)
    assert gov.server_limit == 1666
    assert gov.window_cap == 100


def test_it_respects_what_the_server_says_remains_when_another_client_uses_the_allowance() -> None:
    gov = governor(9500)
    server = ServerModel(limit=200, foreign_per_window=150)  # only 50 left each window
    run = simulate(gov, server, requests=400, workers=16, latency=(0.05, 0.1))

    assert server.rejected == 0
    assert max(per_aligned_window(server.accepted).values()) <= 50
    assert len(run.sends) == 400


def test_requests_in_flight_are_assumed_uncounted_by_the_server() -> None:
    gov = governor(9500, burst=100)  # pacing out of the way: this is about the count
    reset = str(int(START + 10))
    now = START + 1.0
    for _ in range(10):
        assert gov.try_acquire(now) == 0.0
        now += 0.01
    # The first response: the server has counted 8 this window; 9 of ours are in flight.
    gov.observe(
        {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": reset}, now
    )
    granted = 0
    while gov.try_acquire(now) == 0.0:
        granted += 1
        now += 0.01
    assert granted == 20 - 8 - 9
    # Held back only by unanswered requests: look again soon, not at the reset.
    assert gov.try_acquire(now) == pytest.approx(0.05)
    for remaining in range(11, -1, -1):  # the 12 in flight come back; the window fills
        gov.observe(
            {
                "X-RateLimit-Limit": "20",
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": reset,
            },
            now,
        )
    assert gov.in_flight == 0
    wait = gov.try_acquire(now)
    assert now + wait == pytest.approx(START + 10 + 0.05)  # the reset, plus the margin


def test_a_late_response_from_an_ended_window_does_not_loosen_the_bound() -> None:
    gov = governor(9500)
    now = START + 12.0
    gov.try_acquire(now)
    gov.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START + 20))}, now)
    # A straggler from the window that ended at START + 10 claims plenty remain.
    gov.observe({"X-RateLimit-Remaining": "900", "X-RateLimit-Reset": str(int(START + 10))}, now)
    # Nothing has shown yet where the server's windows really end: up to a second after.
    assert gov.try_acquire(now) == pytest.approx(START + 20 + 1.0 + 0.05 - now)


def test_after_the_server_window_resets_a_fresh_allowance_applies() -> None:
    gov = governor(9500)
    now = START + 5.0
    gov.try_acquire(now)
    gov.observe(
        {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(START + 10)),
        },
        now,
    )
    assert gov.try_acquire(now) > 0
    # Until a response from the next window shows where it began, its end is known only
    # to the second: the count holds up to a second past the reset.
    assert gov.try_acquire(START + 10.1) > 0
    assert gov.try_acquire(START + 11.1) == 0.0


def test_a_response_from_the_next_window_shows_how_late_its_windows_really_end() -> None:
    gov = governor(9500)
    full = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}
    gov.try_acquire(START + 5.0)
    gov.observe({**full, "X-RateLimit-Reset": str(int(START + 10))}, START + 5.0)
    # A response from the window after it, arriving 0.2 s past that window's nominal
    # start: the server's windows end at most 0.2 s after their whole seconds.
    gov.observe({**full, "X-RateLimit-Reset": str(int(START + 20))}, START + 10.2)
    assert gov.try_acquire(START + 20.1) > 0
    assert gov.try_acquire(START + 20.26) == 0.0


def test_headers_are_read_case_insensitively_and_garbage_is_ignored() -> None:
    gov = governor(9500)
    gov.try_acquire(START)
    gov.observe({"x-ratelimit-limit": "120", "x-ratelimit-remaining": "n/a"}, START)
    assert gov.server_limit == 120
    assert gov.in_flight == 0


def test_a_skewed_local_clock_is_corrected_from_the_date_header() -> None:
    gov = governor(9500)
    local_now = START + 2.0
    server_now = local_now + 300.0  # our clock is five minutes slow
    headers = {
        "Date": formatdate(server_now, usegmt=True),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(START + 300 + 10)),
    }
    gov.try_acquire(local_now)
    gov.observe(headers, local_now)
    wait = gov.try_acquire(local_now)
    # The window ends 8 s from now in server time (up to a second later, until its real
    # end is learned), not 308 s.
    assert 8.5 <= wait <= 9.5


def test_a_skew_estimate_jittering_with_date_resolution_keeps_one_window() -> None:
    gov = governor(9500, burst=100)
    skew = 1000.4  # the server is 1000.4 s ahead
    reset = str(int(START + skew + 10))

    def response(local: float, remaining: int) -> dict[str, str]:
        return {
            "Date": formatdate(math.floor(local + skew), usegmt=True),
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset,
        }

    now = START + 1.0
    for _ in range(3):
        gov.try_acquire(now)
    gov.observe(response(now + 0.5, 1), now + 0.5)  # the server has counted 19 of 20
    # A late response from earlier in the same window, whose Date is a second older.
    gov.observe(response(now - 0.5, 10), now + 0.55)
    assert gov.in_flight == 1
    # 19 counted + 1 in flight: full. Taking the late response for a new window would
    # have believed only 10 were counted.
    assert gov.try_acquire(now + 0.6) > 0


# -- 429 handling --------------------------------------------------


def test_a_429_blocks_every_worker_until_the_reset_plus_a_small_jitter() -> None:
    gov = governor(9500, reset_margin=0.05, reset_jitter=0.25)
    now = START + 3.0
    gov.try_acquire(now)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START + 10))}
    gov.observe(headers, now)
    until = gov.on_rate_limited(headers, now)

    # The reset's whole second, a second's uncertainty of where the window really ends
    # (nothing learned yet), the margin and the jitter.
    assert START + 11 + 0.05 <= until <= START + 11 + 0.30
    assert gov.stats.rate_limited == 1
    for _ in range(5):  # every worker asking now is told to wait for the same moment
        assert now + gov.try_acquire(now) == pytest.approx(until)
    assert gov.try_acquire(until) == 0.0


def test_retry_after_wins_over_the_reset_header() -> None:
    gov = governor(9500, reset_jitter=0.0, reset_margin=0.0)
    now = START + 1.0
    until = gov.on_rate_limited(
        {"Retry-After": "30", "X-RateLimit-Reset": str(int(START + 10))}, now
    )
    assert until == pytest.approx(now + 30)


def test_a_429_without_headers_waits_one_window() -> None:
    gov = governor(9500, reset_jitter=0.0, reset_margin=0.0)
    assert gov.on_rate_limited({}, START) == pytest.approx(START + 10)


def test_an_absurd_reset_is_capped_at_one_window() -> None:
    gov = governor(9500, reset_jitter=0.0, reset_margin=0.0)
    until = gov.on_rate_limited({"X-RateLimit-Reset": str(int(START + 86_400))}, START)
    assert until == pytest.approx(START + 10)


def test_jitter_comes_from_the_injected_random_source() -> None:
    def block_end(seed: int) -> float:
        gov = RateGovernor(9500, clock=ManualClock(START), rng=random.Random(seed))
        return gov.on_rate_limited({"X-RateLimit-Reset": str(int(START + 10))}, START)

    assert block_end(5) == block_end(5)
    assert block_end(5) != block_end(6)


def test_retry_after_may_be_an_http_date() -> None:
    assert parse_retry_after(formatdate(START + 12, usegmt=True), START) == pytest.approx(12)
    assert parse_retry_after("7", START) == 7.0
    assert parse_retry_after("soon", START) is None


def test_storms_are_survived_with_every_request_eventually_accepted() -> None:
    gov = governor(9500)  # configured far above what the server allows
    server = ServerModel(limit=30)
    run = simulate(gov, server, requests=300, workers=32, latency=(0.01, 0.02))
    assert len(server.accepted) == 300
    # The limit is learned from the first response, so at most a first-window spill.
    assert server.rejected <= 32
    assert max_in_any_interval(run.sends[64:], 10.0) <= 30


# -- the async face --------------------------------------------------


async def test_acquire_waits_on_the_injected_clock_and_counts() -> None:
    clock = ManualClock(START)
    gov = RateGovernor(60, clock=clock, rng=random.Random(1), burst=1)  # 10 per window
    stamps: list[float] = []

    async def worker() -> None:
        for _ in range(5):
            await gov.acquire()
            stamps.append(clock.now())
            gov.observe({}, clock.now())

    await asyncio.gather(*(worker() for _ in range(6)))
    assert gov.stats.sent == 30
    assert gov.stats.waited_seconds > 0
    assert max_in_any_interval(stamps, 10.0) <= 10
    assert stamps[-1] - stamps[0] >= 20.0  # 30 sends at 10 per window need 3 windows


async def test_a_429_during_waiting_holds_back_the_queued_workers() -> None:
    clock = ManualClock(START)
    gov = RateGovernor(6000, clock=clock, rng=random.Random(1), reset_jitter=0.0)
    await gov.acquire()
    until = gov.on_rate_limited({"X-RateLimit-Reset": str(int(START + 10))})
    stamps: list[float] = []

    async def worker() -> None:
        await gov.acquire()
        stamps.append(clock.now())

    await asyncio.gather(*(worker() for _ in range(5)))
    assert min(stamps) >= until
