"""Deterministic changes to a world, for incremental-sync tests.

Every operation is stamped at `world.now()` and goes through the world's write
methods, so `updated_at` moves, `generation` is bumped, the search history
records the old version, and a conversation's record is re-derived from its
(grown) timeline: statistics stay consistent with the parts. Parts are never
removed. The same world, seed and sequence of calls give the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.activity_time import MINUTE
from intercom_sync.simulator.world.generate.contacts import (
    ContactPools,
    build_contact,
    contact_links,
)
from intercom_sync.simulator.world.generate.conversations import source_record, staff_of
from intercom_sync.simulator.world.generate.organisation import company_name, company_record
from intercom_sync.simulator.world.generate.stories import (
    ADMIN_BODIES,
    BOT_BODIES,
    CONTACT_BODIES,
    assignment_target,
)
from intercom_sync.simulator.world.generate.tickets import activity_log, ticket_author
from intercom_sync.simulator.world.ids import NumericIds, object_id
from intercom_sync.simulator.world.membership_ops import MembershipMutations
from intercom_sync.simulator.world.records import (
    ContactLinks,
    applied_tag,
    author_of_admin,
    author_of_contact,
    build_conversation,
    build_ticket,
    contact_reference,
    conversation_static,
    ticket_part,
    ticket_static,
    with_links,
)
from intercom_sync.simulator.world.spec import DAY
from intercom_sync.simulator.world.timeline import PartRecord, Timeline, summarize
from intercom_sync.simulator.world.world import World

Record = dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    """What one operation did: the kind and id it touched, and how."""

    kind: str  # "conversations" | "contacts" | "companies" | "tickets" | "activity_logs"
    op: str  # "new" | "reply" | "assign" | "close" | "reopen" | "snooze" | "unsnooze" | ...
    id: str
    parts_added: int = 0


def _highest_numeric(values: Any, floor: int) -> int:
    return max((int(value) for value in values), default=floor)


# How to find the highest id already used in each numeric sequence.
_SEQUENCE_FLOORS: dict[str, Callable[[World], int]] = {
    "conversations": lambda w: _highest_numeric(
        [*w.conversations, *w.deleted["conversations"]], 100_000_000_000
    ),
    "messages": lambda w: _highest_numeric(
        (c["source"]["id"] for c in w.conversations.values()), 1_000_000_000
    ),
    "tickets": lambda w: _highest_numeric(w.tickets, 10_000),
    "ticket_numbers": lambda w: _highest_numeric((t["ticket_id"] for t in w.tickets.values()), 0),
    "ticket_parts": lambda w: _highest_numeric(
        (p["id"] for t in w.tickets.values() for p in t["ticket_parts"]["ticket_parts"]),
        1_000_000,
    ),
    "notes": lambda w: _highest_numeric(
        (n for links in w.contact_links.values() for n in links.note_ids), 10_000_000
    ),
    "contact_numbers": lambda w: len(w.contacts) + len(w.deleted["contacts"]),
    "company_numbers": lambda w: len(w.companies) + len(w.deleted["companies"]),
}


def next_in_sequence(world: World, sequence: str) -> str:
    """A fresh numeric id, shared by every Mutator of the world."""
    if sequence not in world.sequences:
        world.sequences[sequence] = _SEQUENCE_FLOORS[sequence](world)
    world.sequences[sequence] += 1
    return str(world.sequences[sequence])


# op -> weight in `Mutator.random`
RANDOM_MIX: dict[str, float] = {
    "reply": 30,
    "new_conversation": 12,
    "assign": 8,
    "close": 10,
    "reopen": 3,
    "snooze": 3,
    "unsnooze": 2,
    "tag_conversation": 4,
    "new_contact": 8,
    "update_contact": 10,
    "delete_contact": 1,
    "new_company": 1.5,
    "update_company": 3,
    "delete_company": 0.5,
    "new_ticket": 2,
    "update_ticket": 3,
    "new_activity_log": 2,
}


class Mutator(MembershipMutations):
    """Changes a world the way a live workspace changes, reproducibly (memberships: see
    `MembershipMutations`)."""

    def __init__(self, world: World, seed: int = 0) -> None:
        self.world = world
        self.rng = random.Random(f"{world.spec.seed}/mutator/{seed}")
        self.staff = staff_of(world)
        self._candidates: dict[str, list[str]] = {
            kind: list(world.records(kind))
            for kind in ("conversations", "contacts", "companies", "tickets")
        }
        self._pools: ContactPools | None = None

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> int:
        return self.world.now()

    def _pick(self, kind: str) -> str | None:
        """A live record id, biased towards recently created ones."""
        candidates = self._candidates[kind]
        records = self.world.records(kind)
        for _ in range(50):
            if not candidates:
                return None
            recent = min(len(candidates), 500)
            if self.rng.random() < 0.7:
                index = len(candidates) - 1 - self.rng.randrange(recent)
            else:
                index = self.rng.randrange(len(candidates))
            if candidates[index] in records:
                return candidates[index]
        self._candidates[kind] = candidates = [c for c in candidates if c in records]
        return candidates[self.rng.randrange(len(candidates))] if candidates else None

    def _admin(self) -> Record:
        admins = self.staff.admins
        return admins[self.rng.randrange(len(admins))]

    def _conversation_admin(self, conversation: Record) -> Record:
        assignee = conversation.get("admin_assignee_id")
        admin = self.world.admins.get(str(assignee)) if assignee is not None else None
        return author_of_admin(admin) if admin is not None else self._admin()

    def _contact_author(self, conversation: Record) -> Record:
        source_author = conversation["source"]["author"]
        if source_author["type"] in ("user", "lead"):
            contact_id = source_author["id"]
        else:
            contact_id = conversation["contacts"]["contacts"][0]["id"]
        contact = self.world.contacts.get(contact_id)
        if contact is not None:
            return author_of_contact(contact)
        for part in self.world.parts.records(conversation["id"]):
            if part.author["id"] == contact_id:
                return part.author
        return {"type": "user", "id": contact_id, "name": None, "email": ""}

    def _parts(self, count: int, part_type: str, author: Record, **extra: Any) -> list[PartRecord]:
        now, new_id = self._now(), self.world.parts.new_part_id
        return [PartRecord(new_id(), now, part_type, author, **extra) for _ in range(count)]

    def _rewrite_conversation(
        self, conversation_id: str, parts: list[PartRecord], tags: list[Record] | None = None
    ) -> Record:
        """Append parts, re-derive the record from the timeline, and store it."""
        old = self.world.conversations[conversation_id]
        if parts:
            self.world.append_parts(conversation_id, parts)
        static = conversation_static(old)
        if tags is not None:
            static["tags"] = tags
        summary = summarize(self.world.parts.timelines[conversation_id])
        record = build_conversation(static, summary, max(old["updated_at"], self._now()))
        self.world.put("conversations", record)
        return record

    def _conversation_op(self, conversation_id: str, op: str, parts: list[PartRecord]) -> Mutation:
        self._rewrite_conversation(conversation_id, parts)
        return Mutation("conversations", op, conversation_id, len(parts))

    def _touch_contact(self, contact_id: str, field: str) -> None:
        contact = self.world.contacts.get(contact_id)
        if contact is None:
            return
        now = self._now()
        self.world.put(
            "contacts",
            {**contact, field: now, "updated_at": max(contact["updated_at"], now)},
        )

    # -- conversations ---------------------------------------------------------------------

    def new_conversation(self) -> Mutation:
        """A contact writes in; assignment rules route it to a team straight away."""
        world, rng, now = self.world, self.rng, self._now()
        contact_id = self._pick("contacts") or self.new_contact().id
        contact = world.contacts[contact_id]
        author = author_of_contact(contact)
        conversation_id = next_in_sequence(world, "conversations")
        message_id = next_in_sequence(world, "messages")
        source = source_record(rng, "customer_initiated", author, message_id)
        parts: list[PartRecord] = []
        teams = self.staff.team_ids()
        if teams and rng.random() < 0.6:
            target = assignment_target("team", rng.choice(teams))
            parts = self._parts(1, "default_assignment", self.staff.bot, assigned_to=target)
        timeline = Timeline(now, True, parts)
        world.parts.add_timeline(conversation_id, timeline)
        static: Record = {
            "id": conversation_id,
            "created_at": now,
            "source": source,
            "contacts": {"type": "contact.list", "contacts": [contact_reference(contact)]},
            "tags": [],
            "priority": "priority" if rng.random() < 0.12 else "not_priority",
            "conversation_rating": None,
            "title": source["subject"] or None,
            "custom_attributes": {},
            "ai_agent": None,
        }
        world.put("conversations", build_conversation(static, summarize(timeline), now))
        self._candidates["conversations"].append(conversation_id)
        self._touch_contact(contact_id, "last_replied_at")
        return Mutation("conversations", "new", conversation_id, len(parts))

    def reply(self, conversation_id: str, n_parts: int = 1, author: str = "user") -> Mutation:
        """`n_parts` comments by the contact, the assigned teammate, or the bot."""
        conversation = self.world.conversations[conversation_id]
        if author == "user":
            writer = self._contact_author(conversation)
            bodies: tuple[str, ...] = CONTACT_BODIES
        elif author == "admin":
            writer, bodies = self._conversation_admin(conversation), ADMIN_BODIES
        elif author == "bot":
            writer, bodies = self.staff.bot, BOT_BODIES
        else:
            raise ValueError(f"author must be user, admin or bot, not {author!r}")
        parts = [
            part._replace(body=self.rng.choice(bodies))
            for part in self._parts(n_parts, "comment", writer)
        ]
        mutation = self._conversation_op(conversation_id, "reply", parts)
        contact_id = conversation["contacts"]["contacts"][0]["id"]
        if author == "user":
            self._touch_contact(writer["id"], "last_replied_at")
        elif author == "admin":
            self._touch_contact(contact_id, "last_contacted_at")
        return mutation

    def assign(
        self, conversation_id: str, admin_id: str | None = None, team_id: str | None = None
    ) -> Mutation:
        """Assign to a team and/or an admin; both None unassigns the admin."""
        by = self._admin()
        parts: list[PartRecord] = []
        if team_id is not None:
            parts += self._parts(
                1, "assignment", by, assigned_to=assignment_target("team", team_id)
            )
        if admin_id is not None:
            target = assignment_target("admin", admin_id)
            parts += self._parts(1, "assignment", by, assigned_to=target)
        if not parts:
            target = assignment_target("nobody_admin", None)
            parts = self._parts(1, "assignment", by, assigned_to=target)
        return self._conversation_op(conversation_id, "assign", parts)

    def close(self, conversation_id: str, by: str = "admin") -> Mutation:
        """Close it: by the assigned teammate, by the bot (an AI-agent answer or a workflow
        closing it), or by the contact."""
        conversation = self.world.conversations[conversation_id]
        if by == "admin":
            closer = self._conversation_admin(conversation)
        elif by == "bot":
            closer = self.staff.bot
        elif by == "contact":
            closer = self._contact_author(conversation)
        else:
            raise ValueError(f"by must be admin, bot or contact, not {by!r}")
        return self._conversation_op(conversation_id, "close", self._parts(1, "close", closer))

    def delete_conversation(self, conversation_id: str) -> Mutation:
        """Delete a conversation: it leaves search, and fetching it answers 404."""
        self.world.remove("conversations", conversation_id)
        return Mutation("conversations", "delete", conversation_id)

    def reopen(self, conversation_id: str) -> Mutation:
        admin = self._conversation_admin(self.world.conversations[conversation_id])
        return self._conversation_op(conversation_id, "reopen", self._parts(1, "open", admin))

    def snooze(self, conversation_id: str, until: int) -> Mutation:
        admin = self._conversation_admin(self.world.conversations[conversation_id])
        parts = self._parts(1, "snoozed", admin, snoozed_until=until)
        return self._conversation_op(conversation_id, "snooze", parts)

    def unsnooze(self, conversation_id: str) -> Mutation:
        """The snooze timer fires (a `timer_unsnooze` part by the bot)."""
        parts = self._parts(1, "timer_unsnooze", self.staff.bot)
        return self._conversation_op(conversation_id, "unsnooze", parts)

    def tag_conversation(self, conversation_id: str, tag_id: str) -> Mutation:
        """Apply a tag (no change, and no write, when it is already applied)."""
        conversation = self.world.conversations[conversation_id]
        tags = conversation["tags"]["tags"]
        if all(tag["id"] != tag_id for tag in tags):
            tag = applied_tag(self.world.tags[tag_id], self._now(), self._admin()["id"])
            self._rewrite_conversation(conversation_id, [], tags=[*tags, tag])
        return Mutation("conversations", "tag", conversation_id)

    # -- contacts --------------------------------------------------------------------------

    def _contact_pools(self) -> ContactPools:
        if self._pools is None:
            self._pools = ContactPools.of(self.world, _NoteIds(self.world), {})
        return self._pools

    def new_contact(self) -> Mutation:
        world, rng, now = self.world, self.rng, self._now()
        pools = self._contact_pools()
        is_user = rng.random() < 0.7
        links = contact_links(rng, pools, None, is_user)
        number = int(next_in_sequence(world, "contact_numbers"))
        contact = build_contact(
            rng, pools, world.spec.workspace_id, now, number, now, is_user, links
        )
        world.contact_links[contact["id"]] = links
        world.put("contacts", contact)
        self._candidates["contacts"].append(contact["id"])
        return Mutation("contacts", "new", contact["id"])

    def _changed_links(self, contact: Record, links: ContactLinks) -> ContactLinks | None:
        rng, pools = self.rng, self._contact_pools()
        roll = rng.random()
        if roll < 0.5 and pools.tag_ids:
            if links.tag_ids and rng.random() < 0.4:
                return replace(links, tag_ids=links.tag_ids[:-1])
            tag_id = rng.choice(pools.tag_ids)
            if tag_id not in links.tag_ids:
                return replace(links, tag_ids=[*links.tag_ids, tag_id])
        elif contact["role"] == "user" and pools.company_ids:
            company_id = rng.choice(pools.company_ids)
            if company_id not in links.company_ids:
                return replace(links, company_ids=[*links.company_ids, company_id])
        return None

    def update_contact(self, contact_id: str) -> Mutation:
        """The contact is seen again, and an attribute, tag or company changes."""
        world, rng, now = self.world, self.rng, self._now()
        contact = world.contacts[contact_id]
        changes: Record = {"last_seen_at": now, "updated_at": max(contact["updated_at"], now)}
        roll = rng.random()
        if roll < 0.3:
            custom = dict(contact["custom_attributes"])
            custom["signup_source" if contact["role"] == "lead" else "seats"] = (
                rng.choice(("organic", "referral"))
                if contact["role"] == "lead"
                else rng.randint(1, 60)
            )
            changes["custom_attributes"] = custom
        elif roll < 0.4 and contact["role"] == "lead":
            number = int(next_in_sequence(world, "contact_numbers"))
            changes.update({"role": "user", "external_id": f"u{number:07d}", "signed_up_at": now})
        updated = {**contact, **changes}
        links = self._changed_links(contact, world.contact_links[contact_id])
        if links is not None:
            world.contact_links[contact_id] = links
            updated = with_links(updated, links)
        world.put("contacts", updated)
        return Mutation("contacts", "update", contact_id)

    def delete_contact(self, contact_id: str) -> Mutation:
        self.world.remove("contacts", contact_id)
        return Mutation("contacts", "delete", contact_id)

    # -- companies -------------------------------------------------------------------------

    def new_company(self) -> Mutation:
        world, rng, now = self.world, self.rng, self._now()
        company_id = object_id(rng, now)
        segments = list(world.segments)
        world.company_segment_ids[company_id] = rng.sample(segments, min(1, len(segments)))
        tags = rng.sample(list(world.tags.values()), min(1, len(world.tags)))
        taken = {company["name"] for company in world.companies.values()}
        number = int(next_in_sequence(world, "company_numbers"))
        name = company_name(rng, taken)
        record = company_record(world, rng, company_id, now, number, name, tags, now)
        world.put("companies", record)
        self._candidates["companies"].append(company_id)
        if self._pools is not None:
            self._pools.company_ids.append(company_id)
            self._pools.company_domains[company_id] = record["website"].removeprefix("https://www.")
        return Mutation("companies", "new", company_id)

    def update_company(self, company_id: str) -> Mutation:
        """New sessions and requests; sometimes spend, plan or segment membership change."""
        world, rng, now = self.world, self.rng, self._now()
        company = world.companies[company_id]
        changes: Record = {
            "updated_at": max(company["updated_at"], now),
            "last_request_at": now,
            "session_count": company["session_count"] + rng.randint(1, 20),
        }
        if rng.random() < 0.3:
            changes["monthly_spend"] = max(0, company["monthly_spend"] + rng.randint(-200, 400))
        if rng.random() < 0.2 and world.segments:
            segment_ids = rng.sample(list(world.segments), min(2, len(world.segments)))
            world.company_segment_ids[company_id] = segment_ids
            segments = [world.segments[segment_id] for segment_id in segment_ids]
            changes["segments"] = {"type": "segment.list", "segments": segments}
        world.put("companies", {**company, **changes})
        return Mutation("companies", "update", company_id)

    def delete_company(self, company_id: str) -> Mutation:
        """Delete a company; its contacts lose the link (and so change too)."""
        world, now = self.world, self._now()
        world.remove("companies", company_id)
        if self._pools is not None and company_id in self._pools.company_ids:
            self._pools.company_ids.remove(company_id)
        linked = [
            cid for cid, links in world.contact_links.items() if company_id in links.company_ids
        ]
        for contact_id in linked:
            links = world.contact_links[contact_id]
            kept = [other for other in links.company_ids if other != company_id]
            world.contact_links[contact_id] = links = replace(links, company_ids=kept)
            contact = world.contacts[contact_id]
            touched = {**contact, "updated_at": max(contact["updated_at"], now)}
            world.put("contacts", with_links(touched, links))
        return Mutation("companies", "delete", company_id)

    # -- tickets and activity --------------------------------------------------------------

    def new_ticket(self) -> Mutation:
        world, rng, now = self.world, self.rng, self._now()
        contact_id = self._pick("contacts") or self.new_contact().id
        contact = world.contacts[contact_id]
        admin = self._admin() if rng.random() < 0.75 else None
        title = rng.choice(names.TICKET_TITLES)
        static: Record = {
            "id": next_in_sequence(world, "tickets"),
            "ticket_id": next_in_sequence(world, "ticket_numbers"),
            "ticket_attributes": {
                "_default_title_": title,
                "_default_description_": f"<p>{title}</p>",
            },
            "ticket_type": world.ticket_types[rng.choice(list(world.ticket_types))],
            "contacts": {"type": "contact.list", "contacts": [contact_reference(contact)]},
            "admin_assignee_id": admin["id"] if admin else "0",
            "team_assignee_id": rng.choice(list(world.teams)) if world.teams else "0",
            "created_at": now,
        }
        author = ticket_author(contact, "user")
        parts = [
            ticket_part(next_in_sequence(world, "ticket_parts"), now, None, "submitted", author)
        ]
        record = build_ticket(static, parts)
        world.put("tickets", record)
        self._candidates["tickets"].append(record["id"])
        return Mutation("tickets", "new", record["id"])

    def update_ticket(self, ticket_id: str) -> Mutation:
        """Move the ticket to its next state (resolved tickets may be reopened)."""
        world, rng, now = self.world, self.rng, self._now()
        ticket = world.tickets[ticket_id]
        state = ticket["ticket_state"]
        new_state = rng.choice(_TICKET_NEXT[state])
        admin = world.admins.get(ticket["admin_assignee_id"]) or world.admins[self._admin()["id"]]
        author = ticket_author(admin, "admin")
        part = ticket_part(next_in_sequence(world, "ticket_parts"), now, state, new_state, author)
        static = ticket_static(ticket)
        static["touched_at"] = now
        world.put("tickets", build_ticket(static, [*ticket["ticket_parts"]["ticket_parts"], part]))
        return Mutation("tickets", "update", ticket_id)

    def new_activity_log(self) -> Mutation:
        admins = list(self.world.admins.values())
        admin, other = self.rng.choice(admins), self.rng.choice(admins)
        log = activity_log(self.rng, self._now(), admin, other)
        self.world.append_activity_log(log)
        return Mutation("activity_logs", "new", log["id"])

    # -- a realistic mix -------------------------------------------------------------------

    def random(self, n: int, *, deletions: bool = True) -> list[Mutation]:
        """`n` operations drawn from `RANDOM_MIX` (an impossible one becomes a new contact);
        `deletions=False` leaves out the operations that delete records."""
        mix = {op: w for op, w in RANDOM_MIX.items() if deletions or not op.startswith("delete")}
        ops, weights = list(mix), list(mix.values())
        done: list[Mutation] = []
        for _ in range(n):
            op = self.rng.choices(ops, weights)[0]
            done.append(self._random_op(op) or self.new_contact())
        return done

    def _pick_conversation(self, wanted: Callable[[Record], bool]) -> str | None:
        for _ in range(20):
            conversation_id = self._pick("conversations")
            if conversation_id is None:
                return None
            if wanted(self.world.conversations[conversation_id]):
                return conversation_id
        return None

    def _random_conversation_op(self, op: str) -> Mutation | None:
        rng, now = self.rng, self._now()
        if op == "unsnooze":
            due = self._pick_conversation(
                lambda c: c["state"] == "snoozed" and (c["snoozed_until"] or 0) <= now
            )
            return self.unsnooze(due) if due else None
        wanted: dict[str, Callable[[Record], bool]] = {
            "close": lambda c: c["state"] != "closed",
            "reopen": lambda c: c["state"] == "closed",
            "snooze": lambda c: c["state"] == "open",
        }
        conversation_id = self._pick_conversation(wanted.get(op, lambda c: True))
        if conversation_id is None:
            return None
        if op == "reply":
            author = rng.choices(("user", "admin", "bot"), (50, 45, 5))[0]
            return self.reply(conversation_id, rng.choice((1, 1, 2, 3)), author)
        if op == "assign":
            admin_id = self._admin()["id"] if rng.random() < 0.7 else None
            teams = self.staff.team_ids()
            team_id = rng.choice(teams) if teams and rng.random() < 0.4 else None
            return self.assign(conversation_id, admin_id, team_id)
        if op == "snooze":
            return self.snooze(conversation_id, now + self.world_delay(DAY))
        if op == "tag_conversation":
            return self.tag_conversation(conversation_id, rng.choice(list(self.world.tags)))
        return self.close(conversation_id) if op == "close" else self.reopen(conversation_id)

    def world_delay(self, median: float) -> int:
        """A log-normal delay around `median` seconds."""
        return max(MINUTE, int(self.rng.lognormvariate(0, 0.8) * median))

    def _random_op(self, op: str) -> Mutation | None:
        if op in (
            "new_conversation",
            "new_contact",
            "new_company",
            "new_ticket",
            "new_activity_log",
        ):
            method: Callable[[], Mutation] = getattr(self, op)
            return method()
        for suffix, kind in (
            ("_contact", "contacts"),
            ("_company", "companies"),
            ("_ticket", "tickets"),
        ):
            if op.endswith(suffix):
                record_id = self._pick(kind)
                if record_id is None or (op == "delete_company" and len(self.world.companies) < 2):
                    return None
                operation: Callable[[str], Mutation] = getattr(self, op)
                return operation(record_id)
        if op == "tag_conversation" and not self.world.tags:
            return None
        return self._random_conversation_op(op)


_TICKET_NEXT: dict[str, tuple[str, ...]] = {
    "submitted": ("in_progress",),
    "in_progress": ("waiting_on_customer", "resolved", "resolved"),
    "waiting_on_customer": ("in_progress",),
    "resolved": ("in_progress",),
}


class _NoteIds(NumericIds):
    """Note ids from the world's shared sequence (so Mutators never collide)."""

    def __init__(self, world: World) -> None:
        self._world = world

    def take(self) -> str:
        return next_in_sequence(self._world, "notes")
