"""When things happen in a simulated workspace.

Support traffic is not uniform: it peaks on weekdays and in business hours of
the workspace's time zone, grows over time, and replies arrive after
long-tailed (log-normal) delays, often held over to the next business morning.
`ActivityCalendar` precomputes local day boundaries once so that sampling a
timestamp or asking "is this business time?" costs a bisect, not a tz lookup.
"""

from __future__ import annotations

import bisect
import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from intercom_sync.simulator.world.spec import DAY, WorldSpec

HOUR = 3_600
MINUTE = 60

# Relative traffic by local hour of day and by weekday (Monday = 0).
HOUR_PROFILE: tuple[float, ...] = (
    0.15, 0.10, 0.08, 0.08, 0.10, 0.15, 0.30, 0.55, 0.90, 1.25, 1.40, 1.35,
    1.10, 1.25, 1.35, 1.30, 1.15, 0.90, 0.65, 0.50, 0.45, 0.40, 0.30, 0.20,
)  # fmt: skip
WEEKDAY_PROFILE: tuple[float, ...] = (1.10, 1.10, 1.05, 1.00, 0.90, 0.35, 0.30)
BUSINESS_HOURS = range(9, 18)
# How much busier the end of the history is than its start (a growing workspace).
GROWTH = 0.8
# Local days kept beyond `now` for snoozes and mutations that happen later.
FUTURE_DAYS = 400


class ActivityCalendar:
    """Samples realistic timestamps within a workspace's history window."""

    def __init__(self, spec: WorldSpec) -> None:
        self.tz = ZoneInfo(spec.timezone)
        self.start = spec.now - spec.history_days * DAY
        self.end = spec.now  # generated times stay strictly before `now`
        first = datetime.fromtimestamp(self.start, self.tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(self.end, self.tz).date() + timedelta(days=FUTURE_DAYS)
        self._day_starts: list[int] = []
        self._weekdays: list[int] = []
        day = first
        while day <= last:
            self._day_starts.append(self._local_midnight(day))
            self._weekdays.append(day.weekday())
            day += timedelta(days=1)
        self._bin_starts, self._cumulative = self._traffic_bins()

    def _local_midnight(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp())

    def _traffic_bins(self) -> tuple[list[int], list[float]]:
        starts: list[int] = []
        cumulative: list[float] = []
        total = 0.0
        span = max(1, self.end - self.start)
        for day_start, weekday in zip(self._day_starts, self._weekdays, strict=True):
            for hour, hour_weight in enumerate(HOUR_PROFILE):
                bin_start = day_start + hour * HOUR
                if bin_start + HOUR <= self.start or bin_start >= self.end:
                    continue
                trend = 1.0 - GROWTH / 2 + GROWTH * (bin_start - self.start) / span
                total += WEEKDAY_PROFILE[weekday] * hour_weight * trend
                starts.append(bin_start)
                cumulative.append(total)
        return starts, cumulative

    def sample(self, rng: random.Random, lo: int | None = None, hi: int | None = None) -> int:
        """A timestamp in [lo, hi) (default: the whole history), weighted by traffic."""
        lo = self.start if lo is None else max(lo, self.start)
        hi = self.end if hi is None else min(hi, self.end)
        if hi - lo <= 1:
            return max(self.start, min(lo, self.end - 1))
        weight_lo = self._cumulative_at(lo)
        weight_hi = self._cumulative_at(hi)
        target = weight_lo + rng.random() * (weight_hi - weight_lo)
        index = min(bisect.bisect_right(self._cumulative, target), len(self._bin_starts) - 1)
        moment = self._bin_starts[index] + int(rng.random() * HOUR)
        return min(max(moment, lo), hi - 1)

    def _cumulative_at(self, moment: int) -> float:
        """Traffic weight accumulated before `moment` (linear within an hour bin)."""
        index = bisect.bisect_right(self._bin_starts, moment) - 1
        if index < 0:
            return 0.0
        before = self._cumulative[index - 1] if index > 0 else 0.0
        fraction = min(1.0, (moment - self._bin_starts[index]) / HOUR)
        return before + (self._cumulative[index] - before) * fraction

    def _day_index(self, moment: int) -> int:
        index = bisect.bisect_right(self._day_starts, moment) - 1
        return min(max(index, 0), len(self._day_starts) - 1)

    def is_business_time(self, moment: int) -> bool:
        index = self._day_index(moment)
        hour = (moment - self._day_starts[index]) // HOUR
        return self._weekdays[index] < 5 and hour in BUSINESS_HOURS

    def next_business_start(self, moment: int) -> int:
        """The next moment business hours begin (or `moment` if it is business time)."""
        if self.is_business_time(moment):
            return moment
        index = self._day_index(moment)
        while index < len(self._day_starts):
            opening = self._day_starts[index] + BUSINESS_HOURS.start * HOUR
            if self._weekdays[index] < 5 and opening > moment:
                return opening
            index += 1
        return moment

    def delay(self, rng: random.Random, median_seconds: float, sigma: float) -> int:
        """A log-normal delay in whole seconds (at least one)."""
        return max(1, int(rng.lognormvariate(math.log(median_seconds), sigma)))

    def admin_response(self, rng: random.Random, after: int, median_seconds: float) -> int:
        """When a teammate answers something sent at `after`.

        Most teams work business hours: a message sent at night is usually
        answered the next business morning, after a further short delay.
        """
        answered = after + self.delay(rng, median_seconds, 1.2)
        if not self.is_business_time(answered) and rng.random() < 0.8:
            answered = self.next_business_start(answered) + self.delay(rng, 20 * MINUTE, 0.9)
        return answered
