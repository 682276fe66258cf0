"""Seeded fault planning: determinism, rates, storms, latency shapes, body mangling."""

from __future__ import annotations

import orjson
import pytest
import typer

from intercom_sync.simulator.api.faults import FaultInjector, chunks, corrupt, truncate
from intercom_sync.simulator.serve.cli import parse_faults
from intercom_sync.simulator.service import FaultSpec

MIXED = FaultSpec(
    seed=11,
    latency_ms=100,
    latency_mode="jitter",
    error_500=0.05,
    error_502=0.05,
    error_503=0.05,
    connection_reset=0.05,
    truncated_body=0.05,
    invalid_json=0.05,
    storm_rate=0.01,
    storm_length=5,
)


def _failures(spec: FaultSpec, n: int) -> list[str | None]:
    injector = FaultInjector(spec)
    return [injector.plan().failure for _ in range(n)]


def test_same_seed_same_request_sequence_same_faults() -> None:
    first = [FaultInjector(MIXED).plan() for _ in range(1)]
    a = FaultInjector(MIXED)
    b = FaultInjector(MIXED)
    plans_a = [a.plan() for _ in range(2_000)]
    plans_b = [b.plan() for _ in range(2_000)]
    assert plans_a == plans_b
    assert plans_a[0] == first[0]


def test_another_seed_gives_other_faults() -> None:
    other = FaultSpec(**{**MIXED.__dict__, "seed": 12})
    assert _failures(MIXED, 500) != _failures(other, 500)


def test_no_faults_when_nothing_is_configured() -> None:
    injector = FaultInjector(FaultSpec())
    plans = [injector.plan() for _ in range(200)]
    assert all(p.failure is None and p.latency_seconds == 0 for p in plans)


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("error_500", "error_500"),
        ("error_502", "error_502"),
        ("error_503", "error_503"),
        ("connection_reset", "connection_reset"),
        ("truncated_body", "truncated_body"),
        ("invalid_json", "invalid_json"),
    ],
)
def test_each_fault_occurs_at_about_its_rate(field: str, name: str) -> None:
    spec = FaultSpec(seed=3, **{field: 0.2})
    failures = _failures(spec, 5_000)
    share = failures.count(name) / len(failures)
    assert 0.17 < share < 0.23
    assert set(failures) == {None, name}


def test_a_storm_is_a_run_of_429s_of_the_configured_length() -> None:
    spec = FaultSpec(seed=5, storm_rate=0.01, storm_length=7)
    failures = _failures(spec, 5_000)
    runs: list[int] = []
    run = 0
    for failure in [*failures, None]:
        if failure == "storm_429":
            run += 1
        elif run:
            runs.append(run)
            run = 0
    assert runs, "expected at least one storm"
    # Storms last exactly storm_length requests (two can start back to back).
    assert all(r % 7 == 0 for r in runs)


def test_fixed_latency_is_exact() -> None:
    injector = FaultInjector(FaultSpec(latency_ms=120))
    assert {injector.plan().latency_seconds for _ in range(50)} == {0.12}


def test_jittered_latency_stays_within_half_and_one_and_a_half() -> None:
    injector = FaultInjector(FaultSpec(latency_ms=100, latency_mode="jitter"))
    values = [injector.plan().latency_seconds for _ in range(2_000)]
    assert min(values) >= 0.05 and max(values) <= 0.15
    assert max(values) - min(values) > 0.09


def test_longtail_latency_has_a_median_near_the_setting_and_a_long_tail() -> None:
    injector = FaultInjector(FaultSpec(latency_ms=100, latency_mode="longtail"))
    values = sorted(injector.plan().latency_seconds for _ in range(4_000))
    median = values[len(values) // 2]
    p99 = values[int(len(values) * 0.99)]
    assert 0.08 < median < 0.12
    assert p99 > 4 * median
    assert values[-1] <= 3.0


def test_slow_body_delay_is_planned_for_every_request() -> None:
    injector = FaultInjector(FaultSpec(slow_body_ms=25))
    assert {injector.plan().slow_chunk_seconds for _ in range(20)} == {0.025}


def test_truncate_returns_a_strict_prefix_that_is_not_json() -> None:
    body = orjson.dumps({"type": "list", "data": [{"id": str(i)} for i in range(50)]})
    for fraction in (0.0, 0.3, 0.99, 1.0):
        cut = truncate(body, fraction)
        assert 0 < len(cut) < len(body)
        assert body.startswith(cut)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(cut)


def test_corrupt_body_is_not_json() -> None:
    body = orjson.dumps({"type": "admin.list", "admins": []})
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(corrupt(body, 0.5))


def test_chunks_reassemble_to_the_body() -> None:
    body = bytes(range(256)) * 40
    pieces = chunks(body)
    assert 1 < len(pieces) <= 8
    assert b"".join(pieces) == body
    assert chunks(b"{}") == [b"{}"]


def test_fault_strings_parse_into_a_spec() -> None:
    spec = parse_faults("error_500=0.1, connection_reset=0.05,latency_mode=jitter,storm_length=4")
    assert spec == FaultSpec(
        error_500=0.1, connection_reset=0.05, latency_mode="jitter", storm_length=4
    )
    assert parse_faults("", FaultSpec(latency_ms=80)) == FaultSpec(latency_ms=80)


@pytest.mark.parametrize("text", ["error_500", "nope=1", "error_500=lots", "latency_mode=slow"])
def test_bad_fault_strings_are_rejected_by_name(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_faults(text)
