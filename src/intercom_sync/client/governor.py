"""The one rate governor every request of a sync passes through (DESIGN §6).

Intercom spreads an app's per-minute limit over 10-second windows and reports
the window's `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix seconds) on
every authenticated response. The governor keeps three independent bounds and
lets a request go only when all three allow it:

1. **Pacing** (a GCRA / virtual-scheduling limiter): sends are spaced by
   `window / allowance`, with a small burst tolerance, so a window never
   bursts at its start.
2. **A sliding 10-second cap**: no interval of `window` seconds — however the
   server aligns its windows — holds more than the per-window allowance.
   The allowance is the configured budget ÷ 6, or the server's
   `X-RateLimit-Limit` if that is smaller.
3. **The server's own count**: the server counts a request when it *arrives*,
   so network jitter can move sends across its window boundary and defeat any
   send-side schedule. The governor therefore also tracks the count the server
   reports for its current window (`Limit − Remaining`; it only grows within a
   window, so the largest seen is the latest) and sends only while that count
   plus every request still in flight (perhaps not counted yet) stays below
   the allowance. This also honours what another client of the same app has
   already used.

`Reset` and `Date` are whole seconds, so where the server's window really ends
is learned: its count is trusted up to a second past the reset until a response from
the next window shows how soon after the whole second it really began.

A 429 blocks every worker until `Retry-After` or `Reset`, plus a small random
jitter. The logic is pure (`try_acquire(now)`, `observe(headers, now)`);
`acquire()` only adds the waiting, on an injected `Clock`.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from intercom_sync.client.errors import header_value
from intercom_sync.clock import Clock, SystemClock

WINDOW_SECONDS = 10.0
# Server and local clocks are trusted to agree unless `Date` says otherwise by
# more than this; `Date` has one-second resolution, so smaller gaps are noise.
_SKEW_TOLERANCE = 2.0
# The longest `Retry-After` honoured; anything longer is treated as this.
_MAX_RETRY_AFTER = 600.0
# How soon to look again when only unanswered requests hold the window full.
_IN_FLIGHT_POLL = 0.05
# `X-RateLimit-Reset` and `Date` are whole seconds, so at first where the server's window
# really ends is known only to within a second (see `_learn_phase`).
_BOUNDARY_UNCERTAINTY = 1.0


@dataclass
class GovernorStats:
    """Counters for progress displays and `_sync_runs`."""

    sent: int = 0
    waited_seconds: float = 0.0
    rate_limited: int = 0


class RateGovernor:
    """Decides when each request may be sent; one instance shared by all workers."""

    def __init__(
        self,
        requests_per_minute: int,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        window_seconds: float = WINDOW_SECONDS,
        burst: int | None = None,
        reset_margin: float = 0.05,
        reset_jitter: float = 0.25,
    ) -> None:
        if requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        self._clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self.window = float(window_seconds)
        self._configured = requests_per_minute * self.window / 60.0
        self._burst = burst
        self._reset_margin = reset_margin
        self._reset_jitter = reset_jitter
        self.server_limit: int | None = None
        self.stats = GovernorStats()
        self.in_flight = 0
        self._tat = -math.inf  # GCRA theoretical arrival time of the next send
        self._sends: deque[float] = deque(maxlen=self._window_cap(self._configured))
        self._server_reset: float | None = None  # local time the server's window ends
        self._server_used = 0  # the largest count the server reported for that window
        self._blocked_until = -math.inf
        self._skew = 0.0  # server clock minus local clock
        # How far past its nominal (whole-second) reset the server's window really ends.
        self._phase = _BOUNDARY_UNCERTAINTY
        self._lock = asyncio.Lock()

    # -- what the governor allows ------------------------------------------------

    @property
    def allowance(self) -> float:
        """Sends allowed per window: the configured budget, or the server's if smaller."""
        if self.server_limit is None:
            return self._configured
        return min(self._configured, float(self.server_limit))

    @property
    def window_cap(self) -> int:
        """The whole number of sends any `window`-second interval may hold."""
        return self._window_cap(self.allowance)

    @property
    def recorded_sends(self) -> int:
        """How many send times the governor holds: at most one window's worth."""
        return len(self._sends)

    @property
    def rate_per_second(self) -> float:
        return self.allowance / self.window

    @property
    def blocked_until(self) -> float:
        """Local time before which nothing is sent after a 429 (-inf when not blocked)."""
        return self._blocked_until

    @staticmethod
    def _window_cap(allowance: float) -> int:
        return max(1, math.floor(allowance + 1e-9))

    def _burst_size(self) -> int:
        if self._burst is not None:
            return self._burst
        return max(1, min(16, self.window_cap // 50))

    # -- pure decisions ----------------------------------------------------------

    def try_acquire(self, now: float) -> float:
        """Send now if allowed: record it and return 0.0; else return seconds to wait."""
        self._roll_server_window(now)
        earliest = self._earliest_send(now)
        if earliest > now:
            return earliest - now
        self._record_send(now)
        return 0.0

    def _earliest_send(self, now: float) -> float:
        interval = self.window / self.allowance
        tolerance = self._burst_size() * interval
        earliest = max(now, self._blocked_until, self._tat - tolerance)
        cap = self.window_cap
        if len(self._sends) >= cap:
            earliest = max(earliest, self._sends[-cap] + self.window)
        return max(earliest, self._server_gate(now, cap))

    def _server_gate(self, now: float, cap: int) -> float:
        """The earliest send the server's count allows (`now` when it allows one now)."""
        reset = self._server_reset
        if reset is None or self._server_used + self.in_flight < cap:
            return now
        if self._server_used >= cap:
            return reset + self._phase + self._reset_margin
        # Only requests in flight stand in the way; they may well have been
        # counted in the previous window, so look again soon.
        return min(reset + self._phase + self._reset_margin, now + _IN_FLIGHT_POLL)

    def _record_send(self, now: float) -> None:
        interval = self.window / self.allowance
        self._tat = max(self._tat, now) + interval
        sends = self._sends
        # A send a whole window old can no longer hold anything back: drop it, so the
        # record is the last window's sends, not up to a window's allowance of them.
        while sends and sends[0] <= now - self.window:
            sends.popleft()
        sends.append(now)
        self.in_flight += 1
        self.stats.sent += 1

    def _roll_server_window(self, now: float) -> None:
        """Once the server's window has ended, start counting a fresh one from zero.

        Requests still in flight stay counted by the gate: they may land in it.
        """
        reset = self._server_reset
        end = None if reset is None else reset + self._phase + self._reset_margin
        if reset is None or end is None or now < end:
            return
        passed = math.floor((now - end) / self.window) + 1
        self._server_reset = reset + passed * self.window
        self._server_used = 0

    # -- learning from responses -------------------------------------------------

    def observe(self, headers: Mapping[str, str], now: float | None = None) -> None:
        """Learn from a response's headers; call once per response received (429s too)."""
        now = self._clock.now() if now is None else now
        self.in_flight = max(0, self.in_flight - 1)
        self._learn_skew(headers, now)
        limit = _int_header(headers, "x-ratelimit-limit")
        if limit is not None and limit >= 1:
            self.server_limit = limit
        remaining = _int_header(headers, "x-ratelimit-remaining")
        reset = _float_header(headers, "x-ratelimit-reset")
        if remaining is not None and reset is not None:
            # Without a Limit header, count against our own allowance.
            reference = self.server_limit if self.server_limit is not None else self.window_cap
            self._learn_count(reference - remaining, reset - self._skew, now)

    def on_no_response(self) -> None:
        """A request ended without a response (timeout, reset): it is no longer in flight."""
        self.in_flight = max(0, self.in_flight - 1)

    def _learn_count(self, used: int, reset_local: float, now: float) -> None:
        current = self._server_reset
        half = self.window / 2  # resets within half a window name the same window
        if current is None or reset_local > current + half:
            if current is not None:
                self._learn_phase(reset_local - self.window, now)
            self._server_reset, self._server_used = reset_local, used
        elif reset_local >= current - half:
            self._server_used = max(self._server_used, used)
        # else: a late response about a window that has already ended.

    def _learn_phase(self, started: float, now: float) -> None:
        """A response from a window whose nominal start is `started` arrived at `now`, so
        that window had begun by then: it cannot end later past its whole-second reset
        than `now` is past `started`. The estimate only ever comes down, and never below
        the truth (a response is stamped before it arrives) — so, starting from the full
        second of uncertainty, it settles a round trip or so above the server's real
        offset, however its clock is set."""
        self._phase = min(self._phase, max(0.0, now - started))

    def _learn_skew(self, headers: Mapping[str, str], now: float) -> None:
        """Estimate server clock − local clock from `Date`, steadily.

        `Date` is floored to the second and stamped before the response
        travelled, so each estimate is a little low: keep the largest one, and
        move down only when an estimate is lower by more than the tolerance
        (a clock really was stepped).
        """
        server_now = parse_http_date(header_value(headers, "date"))
        if server_now is None:
            return
        estimate = server_now - now
        if abs(estimate) <= _SKEW_TOLERANCE and abs(self._skew) <= _SKEW_TOLERANCE:
            self._skew = 0.0
        elif estimate > self._skew or estimate < self._skew - _SKEW_TOLERANCE:
            self._skew = estimate

    def on_rate_limited(self, headers: Mapping[str, str], now: float | None = None) -> float:
        """A 429 arrived: block all workers until the window resets. Returns the block's end."""
        now = self._clock.now() if now is None else now
        self.stats.rate_limited += 1
        until = now + self._rate_limit_wait(headers, now)
        until += self._reset_margin + self._rng.uniform(0.0, self._reset_jitter)
        self._blocked_until = max(self._blocked_until, until)
        self._tat = max(self._tat, self._blocked_until)
        if self._server_reset is not None and self._server_reset > now:
            self._server_used = max(self._server_used, self.window_cap)
        return self._blocked_until

    def _rate_limit_wait(self, headers: Mapping[str, str], now: float) -> float:
        retry_after = parse_retry_after(header_value(headers, "retry-after"), now + self._skew)
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_AFTER)
        reset = _float_header(headers, "x-ratelimit-reset")
        if reset is not None:
            # The reset is the current window's end (as far as whole seconds tell it):
            # never more than a window away.
            return min(max(reset - self._skew + self._phase - now, 0.0), self.window)
        return self.window

    # -- waiting -------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait until a request may be sent, and count it as sent (and in flight)."""
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                wait = self.try_acquire(self._clock.now())
                if wait <= 0:
                    return
                self.stats.waited_seconds += wait
                await self._clock.sleep(wait)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _float_header(headers, name)
    return None if value is None else int(value)


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    raw = header_value(headers, name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_http_date(raw: str | None) -> float | None:
    """An HTTP `Date` header as Unix seconds, or None if absent or malformed."""
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def parse_retry_after(raw: str | None, server_now: float) -> float | None:
    """`Retry-After` as seconds to wait: either delta-seconds or an HTTP date."""
    if raw is None or not raw.strip():
        return None
    try:
        return max(0.0, float(raw.strip()))
    except ValueError:
        pass
    when = parse_http_date(raw)
    return None if when is None else max(0.0, when - server_now)
