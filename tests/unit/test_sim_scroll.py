"""Companies scroll rules: one per workspace, idle expiry, same param, empty end."""

from __future__ import annotations

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.api.errors import ApiError
from intercom_sync.simulator.api.scroll import ScrollRegistry, ScrollRules

IDS = [f"c{i:03d}" for i in range(250)]


def _registry(clock: ManualClock, **rules: float | bool | int) -> ScrollRegistry:
    return ScrollRegistry(clock=clock, rules=ScrollRules(**rules), seed=1)  # type: ignore[arg-type]


def test_pages_share_one_param_cover_everything_and_end_with_an_empty_page() -> None:
    registry = _registry(ManualClock())
    first = registry.page(None, lambda: IDS)
    seen = list(first.ids)
    params = {first.param}
    while True:
        page = registry.page(first.param, lambda: IDS)
        params.add(page.param)
        if not page.ids:
            break
        seen.extend(page.ids)
    assert params == {first.param}
    assert seen == IDS
    assert [len(first.ids)] == [100]
    assert registry.stats.opened == 1 and registry.stats.completed == 1
    assert registry.open_count == 0


def test_the_param_is_gone_after_the_empty_page() -> None:
    registry = _registry(ManualClock(), page_size=300)
    first = registry.page(None, lambda: IDS)
    assert registry.page(first.param, lambda: IDS).ids == []
    with pytest.raises(ApiError) as error:
        registry.page(first.param, lambda: IDS)
    assert error.value.status == 404


def test_second_scroll_while_one_is_open_is_scroll_exists() -> None:
    registry = _registry(ManualClock())
    registry.page(None, lambda: IDS)
    with pytest.raises(ApiError) as error:
        registry.page(None, lambda: IDS)
    assert (error.value.status, error.value.code) == (400, "scroll_exists")
    assert registry.stats.refused == 1


def test_a_finished_scroll_lets_a_new_one_open() -> None:
    registry = _registry(ManualClock(), page_size=1000)
    first = registry.page(None, lambda: IDS)
    registry.page(first.param, lambda: IDS)  # the empty end
    second = registry.page(None, lambda: IDS)
    assert second.param != first.param
    assert registry.stats.opened == 2


def test_idle_scroll_expires_and_its_param_is_404() -> None:
    clock = ManualClock()
    registry = _registry(clock, idle_expiry_seconds=60)
    first = registry.page(None, lambda: IDS)
    clock.advance(59)
    registry.page(first.param, lambda: IDS)  # still alive: the idle timer restarts
    clock.advance(60.5)
    with pytest.raises(ApiError) as error:
        registry.page(first.param, lambda: IDS)
    assert error.value.status == 404
    assert registry.stats.expired == 1
    # And an expired scroll no longer blocks a new one.
    assert registry.page(None, lambda: IDS).ids == IDS[:100]


def test_an_expired_scroll_stops_blocking_even_without_being_touched() -> None:
    clock = ManualClock()
    registry = _registry(clock)
    registry.page(None, lambda: IDS)
    clock.advance(61)
    assert registry.page(None, lambda: IDS).ids == IDS[:100]


def test_several_scrolls_when_the_rule_is_off() -> None:
    registry = _registry(ManualClock(), single_scroll=False)
    a = registry.page(None, lambda: IDS)
    b = registry.page(None, lambda: IDS)
    assert a.param != b.param
    assert registry.stats.max_open == 2
    assert registry.page(a.param, lambda: IDS).ids == IDS[100:200]
    assert registry.page(b.param, lambda: IDS).ids == IDS[100:200]


def test_the_position_is_on_the_server_so_a_repeat_request_gets_the_next_page() -> None:
    registry = _registry(ManualClock())
    first = registry.page(None, lambda: IDS)
    second = registry.page(first.param, lambda: IDS)
    again = registry.page(first.param, lambda: IDS)
    assert second.ids == IDS[100:200] and again.ids == IDS[200:]


def test_abort_closes_the_scroll() -> None:
    registry = _registry(ManualClock())
    first = registry.page(None, lambda: IDS)
    assert registry.abort(first.param)
    with pytest.raises(ApiError):
        registry.page(first.param, lambda: IDS)
    assert registry.page(None, lambda: IDS).ids


def test_params_are_deterministic_per_seed() -> None:
    a = ScrollRegistry(clock=ManualClock(), seed=4).page(None, lambda: IDS).param
    b = ScrollRegistry(clock=ManualClock(), seed=4).page(None, lambda: IDS).param
    c = ScrollRegistry(clock=ManualClock(), seed=5).page(None, lambda: IDS).param
    assert a == b != c
