"""What one look at a dashboard asks for: a moment, a time range, a comparison, filters.

The same parameters drive the page (its URL), the JSON API and `query --metric`:

* `as_of` — show everything as of this moment (default: now);
* `range` — a preset, the last `7d`, `30d` or `90d` before `as_of`; or
* `from`, `to` — ISO-8601 dates or times (UTC unless they say otherwise); a date `to`
  includes that whole day; `to` after `as_of` is cut at `as_of` (`range=custom` may come
  with them, as the page's form sends it);
* `compare` — `previous` (the period of the same length just before), `year` (the same
  period a year earlier) or `none`;
* `team`, `admin`, `tag` — Intercom ids; `channel` — a conversation source type.

Without `range`/`from` every windowed metric keeps its own window, ending at `as_of`; with
one, every windowed metric uses the chosen range. Empty values count as not given (an
empty form field). A bad value raises `ViewError` naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from intercom_sync.metrics.durations import Span, iso_ms

Compare = Literal["previous", "year", "none"]
COMPARES: tuple[Compare, ...] = ("previous", "year", "none")
DAY_MS = 86_400_000
# Intercom's web app, where conversations open (EU and AU workspaces have their own host).
INBOX_HOSTS: dict[str, str] = {
    "us": "https://app.intercom.com",
    "eu": "https://app.eu.intercom.com",
    "au": "https://app.au.intercom.com",
}
RANGE_PRESETS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90}
# Conversation source types, as Intercom's API documents them (`conversation_source.type`).
CHANNELS: tuple[str, ...] = (
    "conversation",
    "email",
    "facebook",
    "instagram",
    "phone_call",
    "phone_switch",
    "push",
    "sms",
    "twitter",
    "whatsapp",
)
FILTER_NAMES: tuple[str, ...] = ("team", "admin", "channel", "tag")
VIEW_PARAMS: tuple[str, ...] = ("as_of", "range", "from", "to", "compare", *FILTER_NAMES)
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ViewError(ValueError):
    """A request parameter that cannot be used; names the parameter."""

    def __init__(self, parameter: str, detail: str) -> None:
        self.parameter = parameter
        self.detail = detail
        super().__init__(f"{parameter}: {detail}")


@dataclass(frozen=True)
class Filters:
    """Keep only conversations (and tickets) of this team, teammate, channel and tag."""

    team: str | None = None
    admin: str | None = None
    channel: str | None = None
    tag: str | None = None

    def active(self) -> dict[str, str]:
        """The filters that are set, by parameter name."""
        values = {"team": self.team, "admin": self.admin, "channel": self.channel, "tag": self.tag}
        return {k: v for k, v in values.items() if v is not None}

    def __bool__(self) -> bool:
        return bool(self.active())


@dataclass(frozen=True)
class View:
    """One request's view. `pinned`: the request asked for `as_of`; `inbox` is where
    conversations link to (the server's region)."""

    now_ms: int
    span: Span | None = None
    compare: Compare | None = None
    filters: Filters = field(default_factory=Filters)
    preset: str | None = None
    inbox: str = INBOX_HOSTS["us"]
    pinned: bool = False

    @property
    def end_ms(self) -> int:
        """The moment "as of" which states (open, snoozed …) are shown: the range's end."""
        return self.span.end_ms if self.span is not None else self.now_ms

    def window(self, window_ms: int | None) -> Span | None:
        """A windowed metric's span: the chosen range, or its own window ending now."""
        if window_ms is None:
            return None
        if self.span is not None:
            return self.span
        return Span(self.now_ms - window_ms, self.now_ms)

    def compared(self, span: Span | None, widget_compares: bool) -> Span | None:
        """The span a comparing widget sets against `span` (None: no comparison)."""
        if span is None or not widget_compares:
            return None
        mode = self.compare or "previous"
        if mode == "none":
            return None
        if mode == "year":
            return Span(year_earlier(span.start_ms), year_earlier(span.end_ms))
        length = span.end_ms - span.start_ms
        return Span(span.start_ms - length, span.start_ms)

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": iso_ms(self.now_ms),
            "range": self.preset,
            "from": None if self.span is None else iso_ms(self.span.start_ms),
            "to": None if self.span is None else iso_ms(self.span.end_ms),
            "compare": self.compare,
            "filters": self.filters.active(),
        }


def year_earlier(ms: int) -> int:
    """The same UTC moment one calendar year earlier (29 February becomes the 28th)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    try:
        shifted = moment.replace(year=moment.year - 1)
    except ValueError:
        shifted = moment.replace(year=moment.year - 1, day=28)
    return int(shifted.timestamp() * 1000)


def parse_view(params: Mapping[str, str], now_ms: int, inbox: str = INBOX_HOSTS["us"]) -> View:
    """The view a request's parameters describe; `now_ms` is the server's "now"."""
    given = {k: v.strip() for k, v in params.items() if k in VIEW_PARAMS and v and v.strip()}
    as_of = now_ms
    if "as_of" in given:
        as_of = _moment("as_of", given["as_of"], end_of_day=False)
        if as_of > now_ms:
            raise ViewError("as_of", f"{given['as_of']} is after the current time")
    span, preset = _span(given, as_of)
    compare = given.get("compare")
    if compare is not None and compare not in COMPARES:
        raise ViewError("compare", f"{compare!r} is not one of {', '.join(COMPARES)}")
    return View(as_of, span, compare, _filters(given), preset, inbox, "as_of" in given)


def _span(given: dict[str, str], as_of: int) -> tuple[Span | None, str | None]:
    preset = given.get("range")
    if preset == "custom":  # the page's "Custom dates…": from/to say which
        if "from" not in given:
            raise ViewError("from", "needed for a custom range (the first day)")
        preset = None
    if preset is not None:
        if "from" in given or "to" in given:
            raise ViewError("range", "give either range or from/to, not both")
        if preset not in RANGE_PRESETS:
            raise ViewError("range", f"{preset!r} is not one of {', '.join(RANGE_PRESETS)}")
        return Span(as_of - RANGE_PRESETS[preset] * DAY_MS, as_of), preset
    if "from" not in given:
        if "to" in given:
            raise ViewError("from", "needed with to (the range's first day)")
        return None, None
    start = _moment("from", given["from"], end_of_day=False)
    end = min(as_of, _moment("to", given["to"], end_of_day=True)) if "to" in given else as_of
    if start >= as_of:
        raise ViewError("from", f"{given['from']} is not before the as-of time {iso_ms(as_of)}")
    if start >= end:
        raise ViewError("from", f"{given['from']} is not before to ({iso_ms(end)})")
    return Span(start, end), None


def _moment(name: str, text: str, *, end_of_day: bool) -> int:
    """Unix ms of an ISO date or time; a date `to` means the end of that day."""
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ViewError(
            name, f"{text!r} is not an ISO-8601 date or time (e.g. 2026-01-31 or 2026-01-31T12:00Z)"
        ) from None
    return int(moment.timestamp() * 1000)


def _filters(given: dict[str, str]) -> Filters:
    for name in ("team", "admin", "tag"):
        value = given.get(name)
        if value is not None and not _ID.match(value):
            raise ViewError(name, f"{value!r} is not an Intercom id")
    channel = given.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise ViewError("channel", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    return Filters(given.get("team"), given.get("admin"), channel, given.get("tag"))
