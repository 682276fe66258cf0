"""Who is in which tag and segment, read from a `World`: now, and as a search sees it.

The tables these read are in `memberships` (what the two kinds of membership are, and
how a search sees each); ground truth and the API's segment lists use the "now"
readers, contact search uses `MembershipSnapshot`.
"""

from __future__ import annotations

from collections.abc import Collection

from intercom_sync.simulator.world.memberships import ContactTest, GroupKind
from intercom_sync.simulator.world.world import World

# -- the world's segments, static and time-based ---------------------------------------------


def contact_segment_ids(world: World, contact_id: str, at: float | None = None) -> list[str]:
    """Every segment the live contact is in at `at` (default now): its listed segments,
    then the time-based ones whose rule it matches."""
    contact = world.contacts.get(contact_id)
    links = world.contact_links.get(contact_id)
    if contact is None or links is None:
        return []
    moment = world.clock.now() if at is None else at
    listed = [s for s in links.segment_ids if s in world.segments]
    timed = [
        segment_id
        for segment_id, rule in world.time_segments.items()
        if segment_id in world.segments and rule.matches(contact, moment)
    ]
    return listed + timed


def contact_tag_ids(world: World, contact_id: str) -> list[str]:
    """Every tag on the live contact (its embedded `tags` shows at most ten)."""
    links = world.contact_links.get(contact_id)
    if links is None or contact_id not in world.contacts:
        return []
    return [tag_id for tag_id in links.tag_ids if tag_id in world.tags]


def segment_counts(world: World, at: float | None = None) -> dict[str, int]:
    """Members per segment at `at` (default now), time-based segments included."""
    moment = world.clock.now() if at is None else at
    counts = {
        segment_id: len(world.contact_links.members("segments", segment_id))
        for segment_id in world.segments
        if segment_id not in world.time_segments
    }
    for segment_id, rule in world.time_segments.items():
        counts[segment_id] = sum(rule.matches(c, moment) for c in world.contacts.values())
    return counts


# -- search ---------------------------------------------------------------------------------


class MembershipSnapshot:
    """Memberships as one contact search sees them (see the module docstring).

    `as_of`: the moment the index reflects; `now`: the server's clock when the query
    runs (time-based rules are evaluated at it)."""

    def __init__(self, world: World, as_of: float, now: float) -> None:
        self._world = world
        self._as_of = as_of
        self._now = now

    def predicate(self, kind: GroupKind, group_id: str) -> ContactTest:
        """Is the indexed contact record in tag or segment `group_id`?"""
        world = self._world
        rule = world.time_segments.get(group_id) if kind == "segments" else None
        if rule is not None:
            now = self._now
            return lambda record: rule.matches(record, now)
        return world.contact_links.member_test(kind, group_id, self._as_of)

    def candidates(self, kind: GroupKind, group_id: str) -> Collection[str] | None:
        """Every contact that can be in the group as of `as_of` (None for time-based
        segments: their rule must see each record)."""
        if kind == "segments" and group_id in self._world.time_segments:
            return None
        return self._world.contact_links.members_as_of(kind, group_id, self._as_of)
