"""Intercom's rate limits: a per-app allowance per 10-second window, and a workspace cap.

Intercom states its limit per minute but enforces it over 10-second windows
(a window allows `per_minute / 6`), and caps all apps of one workspace
together. Windows are aligned to multiples of `window_seconds` of the
simulated clock, so `X-RateLimit-Reset` is the end of the current window.
Rejected requests do not use up allowance.
"""

from __future__ import annotations

from dataclasses import dataclass

from intercom_sync.clock import Clock
from intercom_sync.simulator.api.spec import RateLimitSpec


@dataclass(frozen=True)
class RateDecision:
    """Whether one request may proceed, and the headers that describe the window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass
class _WindowCounter:
    window: int = -1
    used: int = 0

    def used_in(self, window: int) -> int:
        return self.used if self.window == window else 0

    def take(self, window: int) -> None:
        if self.window != window:
            self.window, self.used = window, 0
        self.used += 1


class RateLimiter:
    """Counts requests per app and per workspace in the current window."""

    def __init__(self, spec: RateLimitSpec, clock: Clock) -> None:
        self.spec = spec
        self._clock = clock
        self._apps: dict[str, _WindowCounter] = {}
        self._workspace = _WindowCounter()

    def window_allowance(self) -> int:
        return _per_window(self.spec.per_minute, self.spec.window_seconds)

    def workspace_allowance(self) -> int:
        return _per_window(self.spec.workspace_per_minute, self.spec.window_seconds)

    def acquire(self, app_id: str) -> RateDecision:
        """Take one request from the window if both allowances have room."""
        window = self._window()
        app = self._apps.setdefault(app_id, _WindowCounter())
        room = self._room(app, window)
        allowed = room > 0 or not self.spec.enabled
        if allowed:
            app.take(window)
            self._workspace.take(window)
            room -= 1
        return RateDecision(allowed, self.window_allowance(), max(0, room), self._reset(window))

    def peek(self, app_id: str) -> RateDecision:
        """The current window's state for `app_id`, without using any allowance."""
        window = self._window()
        room = self._room(self._apps.get(app_id, _WindowCounter()), window)
        return RateDecision(room > 0, self.window_allowance(), max(0, room), self._reset(window))

    def _room(self, app: _WindowCounter, window: int) -> int:
        app_room = self.window_allowance() - app.used_in(window)
        workspace_room = self.workspace_allowance() - self._workspace.used_in(window)
        return min(app_room, workspace_room)

    def _window(self) -> int:
        return int(self._clock.now() // self.spec.window_seconds)

    def _reset(self, window: int) -> int:
        return (window + 1) * self.spec.window_seconds


def _per_window(per_minute: int, window_seconds: int) -> int:
    return max(1, per_minute * window_seconds // 60)
