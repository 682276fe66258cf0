"""Who is in which tag and segment: now, and as the search index saw it.

Two kinds of membership, neither of which moves a contact's `updated_at`:

* **Static** — tags, and segments whose members are listed in
  `ContactLinks.segment_ids`. `ContactLinkTable` (the world's `contact_links`)
  keeps a reverse index (group → contact ids) and, once `track` is called
  after the world is generated, a history of every join and leave, so a search
  as of a moment in the past sees the members it had then. Assign a new
  `ContactLinks` to change a contact's links; never edit its lists in place.
* **Time-based** — a segment with a `TimeSegmentRule` ("last seen more than 14
  days ago") has no listed members: membership is computed from the contact's
  `last_seen_at` and a moment, so moving the clock changes it with no record
  changing at all.

How search sees them (`membership_reads.MembershipSnapshot`): static memberships as
they were at the index's `as_of` (the index lags writes, and a join is a write to the
contact's index entry); a time-based rule is a filter the index runs when the
query arrives — against the indexed (possibly lagging) version of the record,
with the server's current time — so it needs no history of its own.

This module holds the tables the world keeps; `membership_reads` answers questions
about a whole world from them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from intercom_sync.simulator.world.records import ContactLinks

Record = dict[str, Any]
GroupKind = Literal["tags", "segments"]
ContactTest = Callable[[Record], bool]
# Prune the history in batches of at least this many changes.
_PRUNE_BATCH = 256
_NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TimeSegmentRule:
    """Members: contacts of `role` last seen more than `older_than` seconds before a moment.

    A contact never seen (`last_seen_at` null) is not a member: "last seen more than N
    days ago" says nothing about someone with no last-seen time."""

    older_than: int
    role: str = "user"

    def matches(self, contact: Record, at: float) -> bool:
        seen = contact.get("last_seen_at")
        return contact.get("role") == self.role and seen is not None and seen < at - self.older_than


class _Change(NamedTuple):
    at: float
    kind: GroupKind
    group_id: str
    contact_id: str
    joined: bool


def _ids(links: ContactLinks | None, kind: GroupKind) -> list[str]:
    if links is None:
        return []
    return links.tag_ids if kind == "tags" else links.segment_ids


class ContactLinkTable(dict[str, ContactLinks]):
    """`contact id → ContactLinks`, with a reverse index and a history of membership changes.

    A plain dict while the world is generated; `track` starts the bookkeeping. Every
    write goes through `__setitem__`, `pop` or `__delitem__` (the other dict writers are
    refused), so no caller can change a membership without it being recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0  # bumped by every membership change
        self.retention = 0.0
        self._now: Callable[[], float] | None = None
        self._members: dict[tuple[GroupKind, str], set[str]] | None = None
        self._history: list[_Change] = []
        self._times: list[float] = []
        self._floor = float("-inf")

    def track(self, now: Callable[[], float], retention: float) -> None:
        """Record changes from now on (the world as generated counts as fully indexed)."""
        self._now = now
        self.retention = max(self.retention, retention)

    # -- writes ---------------------------------------------------------------------------

    def __setitem__(self, contact_id: str, links: ContactLinks) -> None:
        old = self.get(contact_id)
        super().__setitem__(contact_id, links)
        if self._now is not None or self._members is not None:
            self._changed(contact_id, old, links)

    def __delitem__(self, contact_id: str) -> None:
        old = self[contact_id]
        super().__delitem__(contact_id)
        self._changed(contact_id, old, None)

    def pop(self, contact_id: str, *default: Any) -> Any:
        if contact_id not in self:
            return super().pop(contact_id, *default)
        old = super().pop(contact_id)
        self._changed(contact_id, old, None)
        return old

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("assign or pop single contacts, so memberships are recorded")

    update = setdefault = popitem = clear = _refuse

    def _changed(self, contact_id: str, old: ContactLinks | None, new: ContactLinks | None) -> None:
        for kind in ("tags", "segments"):
            before, after = _ids(old, kind), _ids(new, kind)
            if before == after:
                continue
            gone, came = set(before) - set(after), set(after) - set(before)
            for group_id in sorted(gone):
                self._note(kind, group_id, contact_id, joined=False)
            for group_id in sorted(came):
                self._note(kind, group_id, contact_id, joined=True)

    def _note(self, kind: GroupKind, group_id: str, contact_id: str, *, joined: bool) -> None:
        self.generation += 1
        if self._members is not None:
            members = self._members.setdefault((kind, group_id), set())
            if joined:
                members.add(contact_id)
            else:
                members.discard(contact_id)
        if self._now is None:
            return
        at = self._now()
        if self._times:
            at = max(at, self._times[-1])
        self._history.append(_Change(at, kind, group_id, contact_id, joined))
        self._times.append(at)
        self._prune(at)

    def _prune(self, now: float) -> None:
        count = bisect.bisect_left(self._times, now - self.retention)
        if count < _PRUNE_BATCH:
            return
        self._floor = self._times[count - 1]
        del self._history[:count]
        del self._times[:count]

    # -- reads ----------------------------------------------------------------------------

    def members(self, kind: GroupKind, group_id: str) -> frozenset[str] | set[str]:
        """The contacts in a tag or (static) segment now. Do not modify the result."""
        if self._members is None:
            self._members = self._reverse_index()
        return self._members.get((kind, group_id), _NOBODY)

    def _reverse_index(self) -> dict[tuple[GroupKind, str], set[str]]:
        index: dict[tuple[GroupKind, str], set[str]] = {}
        for contact_id, links in self.items():
            for tag_id in links.tag_ids:
                index.setdefault(("tags", tag_id), set()).add(contact_id)
            for segment_id in links.segment_ids:
                index.setdefault(("segments", segment_id), set()).add(contact_id)
        return index

    def members_as_of(self, kind: GroupKind, group_id: str, as_of: float) -> Collection[str]:
        """The contacts in the group at `as_of`. Do not modify the result."""
        live = self.members(kind, group_id)
        overrides = self._state_before(kind, group_id, as_of)
        if not overrides:
            return live
        was_in = {contact_id for contact_id, member in overrides.items() if member}
        joined_since = {contact_id for contact_id, member in overrides.items() if not member}
        return (set(live) - joined_since) | was_in

    def member_test(self, kind: GroupKind, group_id: str, as_of: float | None) -> ContactTest:
        """Was the contact (a record with an `id`) in the group at `as_of` (None: now)?"""
        live = self.members(kind, group_id)
        overrides = self._state_before(kind, group_id, as_of) if as_of is not None else {}
        if not overrides:
            return lambda record: record["id"] in live
        return lambda record: overrides.get(record["id"], record["id"] in live)

    def _state_before(self, kind: GroupKind, group_id: str, as_of: float) -> dict[str, bool]:
        """Contacts whose membership changed after `as_of` → whether they were in at `as_of`."""
        if as_of < self._floor:
            raise ValueError(
                f"membership as of {as_of} predates the retained history "
                f"(retention {self.retention} s); raise World history_retention"
            )
        before: dict[str, bool] = {}
        for change in self._history[bisect.bisect_right(self._times, as_of) :]:
            if change.kind == kind and change.group_id == group_id:
                # The first change after as_of tells the state at as_of: a join means out.
                before.setdefault(change.contact_id, not change.joined)
        return before
