"""Where an incremental read starts and where its cursor may advance to (DESIGN §5). Pure.

The rules, each one a way the peers lose data:

* Signpost: a pass's cursor never advances past `pass start − search_lag` (by the
  server's clock), because search indexes show writes minutes late. The next pass starts
  there, so it overlaps this one by the lag (plus `lookback_days`), and the upsert by
  primary key de-duplicates the overlap.
* Never ahead of the data: nor past the newest `updated_at` the pass actually read. A
  stalled index, or a server clock ahead of what search shows, would otherwise put every
  record changed in the gap behind the cursor for good; this way it costs a re-read.
* Contact search compares dates by calendar day in the workspace's time zone: to get every
  record with `updated_at >= lower`, ask from the day before and filter exactly here.
* A crashed pass resumes from the newest `updated_at` it committed (records come sorted
  ascending, ties re-read), keeping its original signpost and pass id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = 86_400
# Any local calendar day lasts at most 25 hours (DST), so 25 hours before an instant is
# always on an earlier local day, whatever the workspace's time zone.
_LONGEST_DAY = 25 * 3_600


@dataclass(frozen=True)
class SearchPass:
    """One pass over a search stream, persisted in its checkpoint until it completes."""

    pass_id: str
    full: bool
    lower: int  # keep records with updated_at >= lower
    signpost: int  # the cursor this pass stores at most when it completes
    resume_from: int | None = None  # newest updated_at committed so far (sorted input)
    newest: int | None = None  # newest updated_at read so far, in whatever order

    @property
    def query_lower(self) -> int:
        """The lower bound of the next query: the start, or where a crash left off."""
        if self.resume_from is None:
            return self.lower
        return max(self.lower, self.resume_from)

    def to_state(self) -> dict[str, Any]:
        return {
            "pass_id": self.pass_id,
            "full": self.full,
            "lower": self.lower,
            "signpost": self.signpost,
            "resume_from": self.resume_from,
            "newest": self.newest,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> SearchPass:
        resume, newest = data.get("resume_from"), data.get("newest")
        return cls(
            pass_id=str(data["pass_id"]),
            full=bool(data["full"]),
            lower=int(data["lower"]),
            signpost=int(data["signpost"]),
            resume_from=None if resume is None else int(resume),
            newest=None if newest is None else int(newest),
        )

    def advanced(self, page_max: int | None) -> SearchPass:
        """After a committed page whose newest record is `page_max` (None: nothing kept)."""
        if page_max is None:
            return self
        current = self.resume_from if self.resume_from is not None else page_max
        return replace(
            self, resume_from=max(current, page_max), newest=_newer(self.newest, page_max)
        )

    def saw(self, newest: int | None) -> SearchPass:
        """Note records read up to `newest` without trusting them as a resume point."""
        return replace(self, newest=_newer(self.newest, newest))

    def restarted(self) -> SearchPass:
        """The same pass with no resume point (its input was found out of order)."""
        return replace(self, resume_from=None)

    def completed_cursor(self, previous: Any) -> int:
        """The cursor a completed pass stores: `min(signpost, newest read)` — never past
        the data it saw — or, if it read nothing, the previous cursor (else its lower
        bound)."""
        if self.newest is None:
            return int(previous) if previous is not None else self.lower
        return min(self.signpost, self.newest)


def _newer(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def signpost(server_now: float, search_lag: float) -> int:
    return int(server_now - search_lag)


def plan_search_pass(
    state: dict[str, Any] | None,
    *,
    full: bool,
    start: int,
    lookback_days: int,
    server_now: float,
    search_lag: float,
) -> SearchPass:
    """Resume the pass in progress, or start a new one.

    A pass in progress is resumed unless a full pass is asked for and the one in progress
    is incremental (a full pass covers more; an incremental run may finish a full pass).
    """
    state = state or {}
    current = state.get("pass")
    if current:
        resumed = SearchPass.from_state(current)
        if resumed.full or not full:
            return resumed
    cursor = state.get("cursor")
    return SearchPass(
        pass_id=uuid.uuid4().hex,
        full=full or cursor is None,
        lower=lower_bound(cursor, full=full, start=start, lookback_days=lookback_days),
        signpost=signpost(server_now, search_lag),
    )


def lower_bound(cursor: Any, *, full: bool, start: int, lookback_days: int) -> int:
    """Where a read starts: `start_date` on a full (or first) pass, else the previous
    cursor minus the lookback window — never before `start_date`."""
    if full or cursor is None:
        return start
    return max(start, int(cursor) - lookback_days * DAY)


def query_bound(lower: int, *, day_granular: bool, timezone: str | None) -> int:
    """The value for an `updated_at >` filter that returns every record with
    `updated_at >= lower`.

    Exact fields: `> lower - 1` (Intercom times are whole seconds). Day-granular fields
    (contact search): an instant on the local day BEFORE lower's local day, so `>` matches
    from the start of lower's day; without a known time zone, 25 hours earlier is always on
    an earlier local day.
    """
    if not day_granular:
        return lower - 1
    zone = _zone(timezone)
    if zone is None:
        return lower - _LONGEST_DAY
    local = datetime.fromtimestamp(lower, zone)
    day_before_noon = (local - timedelta(days=1)).replace(hour=12, minute=0, second=0)
    return int(day_before_noon.timestamp())


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def updated_at_query(bound: int) -> dict[str, Any]:
    return {"field": "updated_at", "operator": ">", "value": bound}


def upper_query_bound(upper: int, *, day_granular: bool, timezone: str | None) -> int | None:
    """The value for an `updated_at <` filter that returns every record with
    `updated_at <= upper`: `upper + 1` for exact fields; for day-granular ones an instant
    on the local day AFTER upper's day (`<` matches before that day starts). None when the
    day boundaries are unknown (no time zone)."""
    if not day_granular:
        return upper + 1
    zone = _zone(timezone)
    if zone is None:
        return None
    local = datetime.fromtimestamp(upper, zone)
    day_after_noon = (local + timedelta(days=1)).replace(hour=12, minute=0, second=0)
    return int(day_after_noon.timestamp())


def search_body(
    bound: int, per_page: int = 150, *, upper: int | None = None, sort: bool = True
) -> dict[str, Any]:
    """An explicit ascending sort: records that change while we page move to the end.
    `upper` adds an `updated_at < upper` filter (a span to re-read or count)."""
    query = updated_at_query(bound)
    if upper is not None:
        query = {
            "operator": "AND",
            "value": [query, {"field": "updated_at", "operator": "<", "value": upper}],
        }
    body: dict[str, Any] = {"query": query, "pagination": {"per_page": per_page}}
    if sort:
        body["sort"] = {"field": "updated_at", "order": "ascending"}
    return body


def activity_slices(lower: int, upper: int, slice_days: int) -> list[tuple[int, int]]:
    """[lower, upper) cut into slices of `slice_days`; each slice overlaps the previous by
    one second, because the API's bounds may be exclusive (the upsert de-duplicates)."""
    if upper <= lower:
        return []
    step = max(1, slice_days) * DAY
    slices: list[tuple[int, int]] = []
    begin = lower
    while begin < upper:
        end = min(begin + step, upper)
        slices.append((max(lower, begin - 1), end))
        begin = end
    return slices


class SliceWatermark:
    """How far a range read as ordered slices, finished in any order, is done without a gap.

    Slices of activity logs are read concurrently, but a cursor may only move past a slice
    once it and every slice before it are finished: `finish(i)` records slice `i` and
    returns the end of the finished prefix (None while slice 0 is unfinished).
    """

    def __init__(self, ends: list[int]) -> None:
        self._ends = ends
        self._finished = [False] * len(ends)
        self._prefix = 0  # slices [0, _prefix) are all finished

    def finish(self, index: int) -> int | None:
        self._finished[index] = True
        while self._prefix < len(self._ends) and self._finished[self._prefix]:
            self._prefix += 1
        return self._ends[self._prefix - 1] if self._prefix else None
