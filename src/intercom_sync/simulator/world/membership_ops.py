"""Mutator operations on memberships: tags and segments that change without `updated_at`.

Intercom does not move a contact's `updated_at` when it is tagged or untagged, nor
when it enters or leaves a segment (and a time-based segment changes with the clock
alone). These operations do the same: tagging rewrites the contact record — its
embedded `tags` list changes — with the same `updated_at`; a segment join or leave
changes no record at all. `Mutator` inherits them, so `/_sim/mutate` reaches them by
name.

They are not in `Mutator.random`'s mix: an incremental sync that follows
`updated_at` cannot see them, so tests that expect such a sync to end equal to the
truth would break. `random_memberships(n)` draws from them instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from intercom_sync.simulator.world.ids import object_id
from intercom_sync.simulator.world.memberships import TimeSegmentRule
from intercom_sync.simulator.world.records import ContactLinks, with_links
from intercom_sync.simulator.world.spec import DAY
from intercom_sync.simulator.world.world import World

# op -> weight in `random_memberships`
MEMBERSHIP_MIX: dict[str, float] = {
    "tag_contact": 4,
    "untag_contact": 2,
    "join_segment": 3,
    "leave_segment": 2,
}
# The operations `/_sim/mutate` may call by name.
MEMBERSHIP_OPS = (
    *MEMBERSHIP_MIX,
    "new_time_segment",
    "random_memberships",
)
# Segment person types and the contact role they hold.
_ROLE_OF_PERSON_TYPE = {"user": "user", "contact": "lead"}


class NothingToChoose(LookupError):
    """No tag or segment fits (nothing to untag, every tag already applied, ...)."""


@dataclass(frozen=True)
class MembershipChange:
    """What one membership operation did (`/_sim/mutate` returns it as JSON)."""

    kind: str  # "contact_tags" | "contact_segments" | "segments"
    op: str  # "tag" | "untag" | "join" | "leave" | "new"
    id: str  # the contact (or, for "new", the segment)
    target: str | None = None  # the tag or segment


class MembershipMutations:
    """Tag, untag, join, leave, and time-based segments (mixed into `Mutator`)."""

    world: World
    rng: random.Random

    def _pick(self, kind: str) -> str | None:
        raise NotImplementedError  # Mutator's

    # -- tags -------------------------------------------------------------------------------

    def tag_contact(self, contact_id: str, tag_id: str | None = None) -> MembershipChange:
        """Apply a tag (by default one the contact lacks); no change when already applied."""
        links = self.world.contact_links[self._live_contact(contact_id)]
        if tag_id is None:
            tag_id = self._choose(
                [t for t in self.world.tags if t not in links.tag_ids], "tag the contact lacks"
            )
        elif tag_id not in self.world.tags:
            raise KeyError(f"no tag {tag_id!r}")
        if tag_id not in links.tag_ids:
            self._retag(contact_id, replace(links, tag_ids=[*links.tag_ids, tag_id]))
        return MembershipChange("contact_tags", "tag", contact_id, tag_id)

    def untag_contact(self, contact_id: str, tag_id: str | None = None) -> MembershipChange:
        """Remove a tag (by default one of the contact's); no change when it is not applied."""
        links = self.world.contact_links[self._live_contact(contact_id)]
        if tag_id is None:
            tag_id = self._choose(links.tag_ids, "tag on the contact")
        if tag_id in links.tag_ids:
            kept = [other for other in links.tag_ids if other != tag_id]
            self._retag(contact_id, replace(links, tag_ids=kept))
        return MembershipChange("contact_tags", "untag", contact_id, tag_id)

    def _retag(self, contact_id: str, links: ContactLinks) -> None:
        """New links, and the contact rewritten with its embedded lists — same updated_at."""
        world = self.world
        world.contact_links[contact_id] = links
        world.put("contacts", with_links(world.contacts[contact_id], links))

    # -- segments ---------------------------------------------------------------------------

    def join_segment(self, contact_id: str, segment_id: str | None = None) -> MembershipChange:
        """The contact enters a listed segment (by default one for its role it is not in)."""
        links = self.world.contact_links[self._live_contact(contact_id)]
        if segment_id is None:
            role = self.world.contacts[contact_id]["role"]
            candidates = [s for s in self._listed_segments(role) if s not in links.segment_ids]
            segment_id = self._choose(candidates, "segment for its role it is not in")
        self._check_listed(segment_id)
        if segment_id not in links.segment_ids:
            joined = replace(links, segment_ids=[*links.segment_ids, segment_id])
            self.world.contact_links[contact_id] = joined
        return MembershipChange("contact_segments", "join", contact_id, segment_id)

    def leave_segment(self, contact_id: str, segment_id: str | None = None) -> MembershipChange:
        """The contact leaves a listed segment (by default one it is in)."""
        links = self.world.contact_links[self._live_contact(contact_id)]
        if segment_id is None:
            segment_id = self._choose(links.segment_ids, "segment the contact is in")
        self._check_listed(segment_id)
        if segment_id in links.segment_ids:
            kept = [other for other in links.segment_ids if other != segment_id]
            self.world.contact_links[contact_id] = replace(links, segment_ids=kept)
        return MembershipChange("contact_segments", "leave", contact_id, segment_id)

    def new_time_segment(
        self, days: int = 14, role: str = "user", name: str = ""
    ) -> MembershipChange:
        """A segment "last seen more than `days` days ago" for contacts of `role`.

        Its members are computed from `last_seen_at` and the clock, so advancing the clock
        past someone's `last_seen_at + days` makes them a member with no record changing."""
        if days < 1 or role not in _ROLE_OF_PERSON_TYPE.values():
            raise ValueError("days must be at least 1 and role user or lead")
        world, now = self.world, self.world.now()
        segment_id = object_id(self.rng, now)
        person_type = next(p for p, r in _ROLE_OF_PERSON_TYPE.items() if r == role)
        record = {
            "type": "segment",
            "id": segment_id,
            "name": name or f"Last seen more than {days} days ago",
            "created_at": now,
            "updated_at": now,
            "person_type": person_type,
        }
        world.time_segments[segment_id] = TimeSegmentRule(days * DAY, role)
        world.put("segments", record)
        return MembershipChange("segments", "new", segment_id)

    def _listed_segments(self, role: str) -> list[str]:
        world = self.world
        return [
            segment_id
            for segment_id, segment in world.segments.items()
            if segment_id not in world.time_segments
            and _ROLE_OF_PERSON_TYPE.get(segment["person_type"]) == role
        ]

    def _check_listed(self, segment_id: str) -> None:
        if segment_id not in self.world.segments:
            raise KeyError(f"no segment {segment_id!r}")
        if segment_id in self.world.time_segments:
            raise ValueError(f"segment {segment_id} is time-based: its rule decides who is in it")

    # -- a mix ------------------------------------------------------------------------------

    def random_memberships(self, n: int) -> list[MembershipChange]:
        """`n` membership changes drawn from `MEMBERSHIP_MIX`, on recently active contacts
        mostly (an impossible one — nothing to untag, say — is skipped)."""
        ops, weights = list(MEMBERSHIP_MIX), list(MEMBERSHIP_MIX.values())
        done: list[MembershipChange] = []
        for _ in range(n):
            op = self.rng.choices(ops, weights)[0]
            contact_id = self._pick("contacts")
            if contact_id is None:
                break
            try:
                done.append(getattr(self, op)(contact_id))
            except NothingToChoose:
                continue
        return done

    # -- helpers ----------------------------------------------------------------------------

    def _live_contact(self, contact_id: str) -> str:
        if contact_id not in self.world.contacts:
            raise KeyError(f"no contact {contact_id!r}")
        return contact_id

    def _choose(self, candidates: list[str], what: str) -> str:
        if not candidates:
            raise NothingToChoose(f"there is no {what}")
        return candidates[self.rng.randrange(len(candidates))]
