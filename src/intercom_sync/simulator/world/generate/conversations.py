"""Generated conversations, their part timelines, and what they do to contacts.

Each conversation starts from a contact who existed at the time (or an
outbound message), gets a story from `StoryWriter`, and its record is derived
from that story by `summarize`, so state, assignees and statistics always
agree with the parts. `spec.long_conversations` of the older half run past
the API's 500-part cap (520 to 1,300 parts).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.activity_time import HOUR
from intercom_sync.simulator.world.generate.context import GenContext
from intercom_sync.simulator.world.generate.stories import (
    ADMIN_BODIES,
    BOT_BODIES,
    CONTACT_BODIES,
    Staff,
    StoryWriter,
)
from intercom_sync.simulator.world.generate.weighted import Weighted
from intercom_sync.simulator.world.ids import NumericIds
from intercom_sync.simulator.world.parts_store import PartsStore
from intercom_sync.simulator.world.records import (
    applied_tag,
    author_of_admin,
    author_of_contact,
    build_conversation,
    contact_reference,
    conversation_updated_at,
)
from intercom_sync.simulator.world.timeline import (
    CONTACT_AUTHOR_TYPES,
    PartRecord,
    Timeline,
    TimelineSummary,
    summarize,
)

Record = dict[str, Any]

# Targets for long conversations; they end with 521 to 1,299 parts.
LONG_PARTS = (526, 1_300)
ISSUE_TYPES = ("Billing", "Bug", "How-to", "Account", "Feature request", "Shipping")
_CHANNELS = {
    "customer_initiated": Weighted(
        [
            ("conversation", 65),
            ("email", 25),
            ("whatsapp", 3),
            ("phone_call", 2),
            ("sms", 2),
            ("facebook", 2),
            ("instagram", 1),
        ]
    ),
    "admin_initiated": Weighted([("email", 50), ("conversation", 50)]),
    "automated": Weighted([("push", 30), ("email", 40), ("conversation", 30)]),
    "operator_initiated": Weighted([("conversation", 1)]),
}
_DELIVERY = Weighted(
    [
        ("customer_initiated", 80),
        ("admin_initiated", 12),
        ("automated", 5),
        ("operator_initiated", 3),
    ]
)
TAG_COUNTS = Weighted([(0, 50), (1, 30), (2, 15), (3, 5)])
RATINGS = Weighted([(1, 9), (2, 6), (3, 10), (4, 20), (5, 55)])


def staff_of(world: Any) -> Staff:
    """Who answers conversations in `world`: inbox admins, by team, and the bot."""
    inbox = [author_of_admin(a) for a in world.admins.values() if a["has_inbox_seat"]]
    inbox = inbox or [author_of_admin(a) for a in world.admins.values()]
    by_id = {author["id"]: author for author in inbox}
    members: dict[str, Sequence[Record]] = {
        team_id: [by_id[str(a)] for a in team["admin_ids"] if str(a) in by_id]
        for team_id, team in world.teams.items()
    }
    away = frozenset(
        admin_id
        for admin_id, admin in world.admins.items()
        if admin["away_mode_enabled"] and admin["away_mode_reassign"]
    )
    return Staff(admins=inbox, team_members=members, bot=world.bot, away_reassign=away)


@dataclass
class ContactActivity:
    """Latest moments each contact wrote, and was written to."""

    replied: dict[str, int] = field(default_factory=dict)
    contacted: dict[str, int] = field(default_factory=dict)

    def note(self, contact_ids: list[str], parts: list[PartRecord]) -> None:
        for part in parts:
            if part.part_type != "comment":
                continue
            author_type, author_id = part.author["type"], part.author["id"]
            if author_type in CONTACT_AUTHOR_TYPES:
                self.replied[author_id] = max(self.replied.get(author_id, 0), part.created_at)
            elif author_type == "admin":
                first = contact_ids[0]
                self.contacted[first] = max(self.contacted.get(first, 0), part.created_at)

    def note_source(self, contact_id: str, at: int) -> None:
        self.replied[contact_id] = max(self.replied.get(contact_id, 0), at)


def source_record(rng: random.Random, delivered: str, author: Record, message_id: str) -> Record:
    """The message that started a conversation (`conversation_source`)."""
    channel = _CHANNELS[delivered].pick(rng)
    bodies = {"user": CONTACT_BODIES, "lead": CONTACT_BODIES, "bot": BOT_BODIES}
    is_chat = channel == "conversation" and rng.random() < 0.6
    return {
        "type": channel,
        "id": message_id,
        "delivered_as": delivered,
        "subject": rng.choice(names.EMAIL_SUBJECTS) if channel == "email" else "",
        "body": rng.choice(bodies.get(author["type"], ADMIN_BODIES)),
        "author": author,
        "attachments": [],
        "url": "https://app.example.com/dashboard" if is_chat else None,
        "redacted": False,
    }


class _ConversationMaker:
    def __init__(self, context: GenContext) -> None:
        world = context.world
        self.context = context
        self.rng = context.rng("conversations")
        self.ids = NumericIds(self.rng, 100_000_000_000, 200_000_000_000, step_max=3)
        self.message_ids = NumericIds(self.rng, 1_000_000_000, 2_000_000_000, step_max=40)
        self.parts = PartsStore({}, next_part_id=self.rng.randrange(10**10, 2 * 10**10))
        self.staff = staff_of(world)
        self.admin_ids = frozenset(str(a["id"]) for a in world.admins.values())
        self.writer = StoryWriter(
            context.rng("parts"),
            context.calendar,
            self.staff,
            self.parts.new_part_id,
            context.horizon,
        )
        self.contacts = list(world.contacts.values())
        self.contact_times = [contact["created_at"] for contact in self.contacts]
        self.contact_authors: dict[str, Record] = {}
        self.activity = ContactActivity()
        self.tags = list(world.tags.values())

    def _author(self, contact: Record) -> Record:
        author = self.contact_authors.get(contact["id"])
        if author is None:
            author = self.contact_authors[contact["id"]] = author_of_contact(contact)
        return author

    def _participants(self, created_at: int) -> list[Record]:
        limit = max(1, bisect.bisect_right(self.contact_times, created_at))
        chosen = [self.contacts[self.rng.randrange(limit)]]
        if self.rng.random() < 0.05 and limit > 1:
            other = self.contacts[self.rng.randrange(limit)]
            if other["id"] != chosen[0]["id"]:
                chosen.append(other)
        return chosen

    def make(self, created_at: int, long_parts: int | None) -> Record:
        rng = self.rng
        participants = self._participants(created_at)
        created_at = max(created_at, participants[0]["created_at"])
        delivered = _DELIVERY.pick(rng) if long_parts is None else "customer_initiated"
        source = self._source(delivered, participants[0])
        authors = [self._author(contact) for contact in participants]
        parts = self.writer.write(created_at, authors, source["author"], long_parts)
        conversation_id = self.ids.take()
        timeline = Timeline(created_at, delivered == "customer_initiated", parts)
        self.parts.add_timeline(conversation_id, timeline)
        self.activity.note([c["id"] for c in participants], parts)
        if delivered == "customer_initiated":
            self.activity.note_source(participants[0]["id"], created_at)
        summary = summarize(timeline)
        static = self._static(conversation_id, created_at, source, participants, summary)
        return build_conversation(static, summary, conversation_updated_at(static, summary))

    def _source(self, delivered: str, contact: Record) -> Record:
        if delivered == "customer_initiated":
            author = self._author(contact)
        elif delivered == "operator_initiated":
            author = self.staff.bot
        else:
            author = self.staff.admins[self.rng.randrange(len(self.staff.admins))]
        return source_record(self.rng, delivered, author, self.message_ids.take())

    def _static(
        self,
        conversation_id: str,
        created_at: int,
        source: Record,
        participants: list[Record],
        summary: TimelineSummary,
    ) -> Record:
        rng = self.rng
        return {
            "id": conversation_id,
            "created_at": created_at,
            "source": source,
            "contacts": {
                "type": "contact.list",
                "contacts": [contact_reference(c) for c in participants],
            },
            "tags": self._tags(created_at, summary),
            "priority": "priority" if rng.random() < 0.12 else "not_priority",
            "conversation_rating": self._rating(participants[0], summary),
            "title": source["subject"] or None,
            "custom_attributes": (
                {"Issue type": rng.choice(ISSUE_TYPES), "Product area score": rng.randint(1, 5)}
                if rng.random() < 0.6
                else {}
            ),
            "ai_agent": self._ai_agent(conversation_id, summary),
        }

    def _tags(self, created_at: int, summary: TimelineSummary) -> list[Record]:
        rng = self.rng
        count = TAG_COUNTS.pick(rng)
        chosen = rng.sample(self.tags, min(count, len(self.tags)))
        last = summary.last_part_at or created_at
        taggers = summary.teammate_ids or [a["id"] for a in self.staff.admins]
        return [
            applied_tag(tag, rng.randint(created_at, last), rng.choice(taggers)) for tag in chosen
        ]

    def _rating(self, contact: Record, summary: TimelineSummary) -> Record | None:
        statistics = summary.statistics
        rng = self.rng
        if summary.state != "closed" or "first_admin_reply_at" not in statistics:
            return None
        if statistics.get("last_closed_by_id") not in self.admin_ids:
            return None  # closed by the bot or the contact: nobody asks for a rating
        if rng.random() >= 0.3:
            return None
        rated_at = statistics["last_close_at"] + self.context.calendar.delay(rng, HOUR, 1.0)
        if rated_at > self.context.horizon:
            return None
        return {
            "rating": RATINGS.pick(rng),
            "remark": rng.choice(names.RATING_REMARKS),
            "created_at": rated_at,
            "contact": contact_reference(contact),
            "teammate": {"type": "admin", "id": statistics["last_closed_by_id"]},
        }

    def _ai_agent(self, conversation_id: str, summary: TimelineSummary) -> Record | None:
        records = self.parts.records(conversation_id)
        if not any(p.author["type"] == "bot" and p.part_type == "comment" for p in records):
            return None
        handed_over = "first_admin_reply_at" in summary.statistics
        return {
            "source_type": "workflow",
            "source_title": "Support bot",
            "last_answer_type": None if handed_over else "ai_answer",
            "resolution_state": "routed_to_team" if handed_over else "assumed_resolution",
            "rating": None,
            "rating_remark": None,
            "content_sources": {
                "type": "content_source.list",
                "total_count": 0,
                "content_sources": [],
            },
        }


def make_conversations(context: GenContext) -> None:
    world = context.world
    maker = _ConversationMaker(context)
    rng = maker.rng
    count = world.spec.conversations
    times = sorted(context.calendar.sample(rng) for _ in range(count))
    older_half = range(max(1, count // 2))
    long_count = min(world.spec.long_conversations, len(older_half), count)
    long_positions = set(rng.sample(older_half, long_count))
    for position, created_at in enumerate(times):
        long_parts = rng.randint(*LONG_PARTS) if position in long_positions else None
        record = maker.make(created_at, long_parts)
        world.conversations[record["id"]] = record
    world.parts = maker.parts
    _touch_contacts(world.contacts, maker.activity)


def _touch_contacts(contacts: dict[str, Record], activity: ContactActivity) -> None:
    for contact_id, moment in activity.replied.items():
        contact = contacts[contact_id]
        contact["last_replied_at"] = moment
        contact["updated_at"] = max(contact["updated_at"], moment)
    for contact_id, moment in activity.contacted.items():
        contact = contacts[contact_id]
        contact["last_contacted_at"] = moment
        contact["updated_at"] = max(contact["updated_at"], moment)
