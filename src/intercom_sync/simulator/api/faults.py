"""Seeded fault injection: latency, 5xx, connection resets, broken bodies, 429 storms.

`FaultInjector.plan()` decides, for the next request, everything that will go
wrong with it. It draws the same number of random values for every request,
so a given `FaultSpec.seed` and request sequence always yield the same faults,
whatever the outcome of earlier draws.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from statistics import NormalDist

from intercom_sync.simulator.api.spec import FaultSpec

# A long-tailed latency is log-normal around the configured median, capped.
_LONGTAIL_SIGMA = 0.9
_LONGTAIL_CAP = 30.0
_SLOW_BODY_CHUNKS = 8
_MIN_CHUNK_BYTES = 512
_DRAWS_PER_REQUEST = 6
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong with one request. At most one of the failure kinds is set."""

    latency_seconds: float = 0.0
    error_status: int | None = None  # 500, 502 or 503 instead of the real answer
    storm: bool = False  # 429 although the rate limit has room
    connection_reset: bool = False  # the connection drops before a response
    truncated_body: bool = False  # a 2xx body cut short
    invalid_json: bool = False  # a 2xx body that is not JSON
    truncate_fraction: float = 0.5
    slow_chunk_seconds: float = 0.0  # delay between body chunks

    @property
    def failure(self) -> str | None:
        """The name of the failure this plan injects, for statistics."""
        if self.storm:
            return "storm_429"
        if self.connection_reset:
            return "connection_reset"
        if self.error_status is not None:
            return f"error_{self.error_status}"
        if self.truncated_body:
            return "truncated_body"
        if self.invalid_json:
            return "invalid_json"
        return None


NO_FAULTS = FaultPlan()


class FaultInjector:
    """Plans faults for a sequence of requests, deterministically from `spec.seed`."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self._storm_left = 0

    def plan(self) -> FaultPlan:
        if not self.spec.any:
            return NO_FAULTS
        latency_draw, storm_draw, reset_draw, error_draw, body_draw, cut_draw = (
            self._rng.random() for _ in range(_DRAWS_PER_REQUEST)
        )
        base = FaultPlan(
            latency_seconds=self._latency(latency_draw),
            truncate_fraction=0.05 + 0.9 * cut_draw,
            slow_chunk_seconds=self.spec.slow_body_ms / 1000.0,
        )
        if self._in_storm(storm_draw):
            return _with(base, storm=True)
        if reset_draw < self.spec.connection_reset:
            return _with(base, connection_reset=True)
        status = self._error_status(error_draw)
        if status is not None:
            return _with(base, error_status=status)
        return self._body_fault(base, body_draw)

    def _latency(self, draw: float) -> float:
        median = self.spec.latency_ms / 1000.0
        if median <= 0:
            return 0.0
        if self.spec.latency_mode == "jitter":
            return median * (0.5 + draw)
        if self.spec.latency_mode == "longtail":
            z = _STANDARD_NORMAL.inv_cdf(min(max(draw, 1e-9), 1 - 1e-9))
            return min(median * _LONGTAIL_CAP, median * math.exp(_LONGTAIL_SIGMA * z))
        return median

    def _in_storm(self, draw: float) -> bool:
        if self._storm_left > 0:
            self._storm_left -= 1
            return True
        if draw < self.spec.storm_rate:
            self._storm_left = max(0, self.spec.storm_length - 1)
            return True
        return False

    def _error_status(self, draw: float) -> int | None:
        threshold = 0.0
        for status, rate in (
            (500, self.spec.error_500),
            (502, self.spec.error_502),
            (503, self.spec.error_503),
        ):
            threshold += rate
            if draw < threshold:
                return status
        return None

    def _body_fault(self, base: FaultPlan, draw: float) -> FaultPlan:
        if draw < self.spec.truncated_body:
            return _with(base, truncated_body=True)
        if draw < self.spec.truncated_body + self.spec.invalid_json:
            return _with(base, invalid_json=True)
        return base


def _with(base: FaultPlan, **changes: bool | int) -> FaultPlan:
    return replace(base, **changes)  # type: ignore[arg-type]


def truncate(body: bytes, fraction: float) -> bytes:
    """A strict prefix of `body` (at least one byte shorter, at least one byte long)."""
    if len(body) <= 1:
        return b""
    cut = min(len(body) - 1, max(1, int(len(body) * fraction)))
    return body[:cut]


def corrupt(body: bytes, fraction: float) -> bytes:
    """`body` with a stray fragment spliced in, as a broken proxy might send: not JSON."""
    cut = int(len(body) * fraction)
    return body[:cut] + b"\x00<!-- upstream reset -->" + body[cut:]


def chunks(body: bytes) -> list[bytes]:
    """Split a body into the pieces a slow response trickles out."""
    count = max(1, min(_SLOW_BODY_CHUNKS, len(body) // _MIN_CHUNK_BYTES))
    size = -(-len(body) // count) if body else 1
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]
