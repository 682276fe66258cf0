"""In-flight sizing: an adjustable semaphore, and Little's law over synthetic latencies."""

from __future__ import annotations

import asyncio
import random

import pytest

from intercom_sync.client.concurrency import AdjustableSemaphore, ConcurrencyController
from intercom_sync.clock import ManualClock

# -- the semaphore ------------------------------------------------------------


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_never_more_holders_than_the_limit() -> None:
    semaphore = AdjustableSemaphore(3)
    clock = ManualClock()
    peak = 0

    async def job(duration: float) -> None:
        nonlocal peak
        async with semaphore.slot():
            peak = max(peak, semaphore.in_use)
            await clock.sleep(duration)

    rng = random.Random(4)
    await asyncio.gather(*(job(rng.uniform(0.01, 0.5)) for _ in range(40)))
    assert peak == 3
    assert semaphore.in_use == 0


async def test_waiters_are_served_in_arrival_order() -> None:
    semaphore = AdjustableSemaphore(1)
    await semaphore.acquire()
    order: list[int] = []

    async def waiter(n: int) -> None:
        await semaphore.acquire()
        order.append(n)
        semaphore.release()

    tasks = [asyncio.create_task(waiter(n)) for n in range(5)]
    await _settle()
    semaphore.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_raising_the_limit_admits_waiters_at_once() -> None:
    semaphore = AdjustableSemaphore(1)
    await semaphore.acquire()
    tasks = [asyncio.create_task(semaphore.acquire()) for _ in range(3)]
    await _settle()
    assert semaphore.waiting == 3
    semaphore.set_limit(4)
    await asyncio.gather(*tasks)
    assert semaphore.in_use == 4


async def test_lowering_the_limit_lets_running_work_finish_and_holds_new_work() -> None:
    semaphore = AdjustableSemaphore(4)
    for _ in range(4):
        await semaphore.acquire()
    semaphore.set_limit(2)
    late = asyncio.create_task(semaphore.acquire())
    await _settle()
    semaphore.release()
    semaphore.release()
    await _settle()
    assert not late.done()  # still 2 in use: at the new limit
    semaphore.release()
    await asyncio.wait_for(late, 1)
    assert semaphore.in_use == 2


async def test_a_cancelled_waiter_does_not_leak_a_slot() -> None:
    semaphore = AdjustableSemaphore(1)
    await semaphore.acquire()
    doomed = asyncio.create_task(semaphore.acquire())
    await _settle()
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    semaphore.release()
    assert semaphore.in_use == 0
    await asyncio.wait_for(semaphore.acquire(), 1)
    assert semaphore.in_use == 1


async def test_a_waiter_cancelled_just_as_it_is_handed_a_slot_gives_it_back() -> None:
    semaphore = AdjustableSemaphore(1)
    await semaphore.acquire()
    doomed = asyncio.create_task(semaphore.acquire())
    await _settle()
    semaphore.release()  # hands the slot to `doomed` …
    doomed.cancel()  # … which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert semaphore.in_use == 0


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        AdjustableSemaphore(0)
    with pytest.raises(ValueError):
        AdjustableSemaphore(2).set_limit(0)
    with pytest.raises(RuntimeError):
        AdjustableSemaphore(1).release()


# -- the controller -------------------------------------------------------------


def feed(controller: ConcurrencyController, latencies: list[float]) -> None:
    for latency in latencies:
        controller.observe_latency(latency)


def test_littles_law_sizes_the_pool_for_the_budget_at_the_observed_latency() -> None:
    # 10,000 requests a minute at a steady 150 ms: 166.7/s × 0.15 s = 25 in flight.
    controller = ConcurrencyController("auto", rate_per_second=10_000 / 60, headroom=1.5, spare=2)
    feed(controller, [0.15] * 50)
    assert controller.limit == 38 + 2  # ceil(25 × 1.5) + 2 spare


def test_slower_responses_need_more_requests_in_flight() -> None:
    fast = ConcurrencyController("auto", rate_per_second=100, headroom=1.0, spare=0)
    slow = ConcurrencyController("auto", rate_per_second=100, headroom=1.0, spare=0)
    rng = random.Random(8)
    feed(fast, [rng.uniform(0.04, 0.06) for _ in range(200)])
    feed(slow, [rng.uniform(0.18, 0.22) for _ in range(200)])
    assert 4 <= fast.limit <= 7  # ≈ 100/s × 0.05 s
    assert 18 <= slow.limit <= 23  # ≈ 100/s × 0.2 s


def test_the_pool_is_clamped_to_the_cap_and_to_one() -> None:
    huge = ConcurrencyController("auto", rate_per_second=10_000, cap=64)
    feed(huge, [2.0] * 10)
    assert huge.limit == 64
    tiny = ConcurrencyController("auto", rate_per_second=0.1, spare=0)
    feed(tiny, [0.01] * 10)
    assert tiny.limit == 1


def test_a_lower_allowed_rate_shrinks_the_pool() -> None:
    controller = ConcurrencyController("auto", rate_per_second=160, headroom=1.0, spare=0)
    feed(controller, [0.1] * 20)
    assert controller.limit == 16
    controller.set_rate(20)  # the server's limit turned out lower
    assert controller.limit == 2


def test_the_average_follows_a_latency_shift() -> None:
    controller = ConcurrencyController("auto", rate_per_second=100, headroom=1.0, spare=0)
    feed(controller, [0.05] * 30)
    before = controller.limit
    feed(controller, [0.3] * 30)
    assert controller.mean_latency == pytest.approx(0.3, rel=0.01)
    assert controller.limit > before


def test_fixed_mode_ignores_latency() -> None:
    controller = ConcurrencyController(12, rate_per_second=1000)
    feed(controller, [1.0] * 10)
    controller.set_rate(1)
    assert controller.limit == 12
    assert not controller.auto


def test_auto_mode_starts_small_until_something_is_measured() -> None:
    controller = ConcurrencyController("auto", initial=8)
    assert controller.limit == 8
    assert controller.target() == 8
