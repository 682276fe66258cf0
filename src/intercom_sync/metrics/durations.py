"""Human durations (`24h`, `7d`, `15m`) and the calendar steps of time buckets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Bucket = Literal["hour", "day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week", "month")

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_FIXED_BUCKET_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000}
# A chart keeps its metric's bucket up to this many points, then steps up (day → week).
MAX_POINTS = 62
_COARSER: dict[Bucket, Bucket] = {"hour": "day", "day": "week", "week": "month"}


@dataclass(frozen=True)
class Span:
    """A half-open time range [start_ms, end_ms) in Unix milliseconds."""

    start_ms: int
    end_ms: int


def parse_duration(text: str | int | float) -> float:
    """Seconds in `30s`, `15m`, `24h`, `7d`, `2w` (a bare number is seconds)."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 24h, 7d, 2w)")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"a duration must be positive: {text!r}")
    return seconds


def bucket_start(ms: int, bucket: Bucket) -> int:
    """The UTC start of the bucket holding `ms`; weeks start on Monday (ISO)."""
    if bucket == "month":
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)
    if bucket == "week":
        days = ms // 86_400_000
        return (days - (days + 3) % 7) * 86_400_000
    size = _FIXED_BUCKET_MS[bucket]
    return (ms // size) * size


def next_bucket(start_ms: int, bucket: Bucket) -> int:
    if bucket != "month":
        return start_ms + _FIXED_BUCKET_MS[bucket]
    moment = datetime.fromtimestamp(start_ms / 1000, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def bucket_range(first_ms: int, last_ms: int, bucket: Bucket) -> list[int]:
    """Every bucket start from the bucket of `first_ms` to the bucket of `last_ms`."""
    out: list[int] = []
    current = bucket_start(first_ms, bucket)
    while current <= last_ms:
        out.append(current)
        current = next_bucket(current, bucket)
    return out


def iso_ms(ms: int) -> str:
    """`2026-01-01T00:00:00Z` for a Unix-millisecond instant."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chart_bucket(bucket: Bucket, span: Span | None) -> Bucket:
    """The metric's bucket, or a coarser one when the span would need too many points."""
    while span is not None and bucket in _COARSER:
        if len(bucket_range(span.start_ms, span.end_ms - 1, bucket)) <= MAX_POINTS:
            break
        bucket = _COARSER[bucket]
    return bucket


def partial_buckets(starts: list[int], bucket: Bucket, span: Span | None) -> list[bool]:
    """Buckets the span does not cover whole (the first, and the one holding "now")."""
    if span is None:
        return [False] * len(starts)
    return [b < span.start_ms or next_bucket(b, bucket) > span.end_ms for b in starts]
