"""Seeded conversation histories: who says what, when, and who handles it.

A `StoryWriter` produces the part timeline of one conversation the way support
actually runs: an optional bot greeting (and sometimes the bot's answer resolves it),
routing by assignment rules, a teammate's first reply after a long-tailed delay (usually
held to business hours), a few back-and-forth exchanges with notes, reassignments and
snoozes, then a close — mostly by the teammate, sometimes by a workflow after the contact
went quiet, or by the contact — and sometimes a reopen days later. Nothing is written
after the world's `now`, so recent conversations are naturally still open or waiting.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.activity_time import HOUR, MINUTE, ActivityCalendar
from intercom_sync.simulator.world.spec import DAY
from intercom_sync.simulator.world.timeline import PartRecord

CONTACT_BODIES = tuple(f"<p>{text}</p>" for text in names.CONTACT_MESSAGES)
ADMIN_BODIES = tuple(f"<p>{text}</p>" for text in names.ADMIN_MESSAGES)
NOTE_BODIES = tuple(f"<p>{text}</p>" for text in names.NOTE_MESSAGES)
BOT_BODIES = tuple(f"<p>{text}</p>" for text in names.BOT_MESSAGES)

Author = dict[str, Any]


@dataclass(frozen=True)
class Staff:
    """Who can answer: inbox teammates, their teams, and the workspace bot."""

    admins: Sequence[Author]  # author objects of admins with an inbox seat
    team_members: dict[str, Sequence[Author]]  # team id -> its inbox admins
    bot: Author
    # Admins in away mode who have new conversations reassigned.
    away_reassign: frozenset[str] = frozenset()

    def team_ids(self) -> list[str]:
        return [team_id for team_id, members in self.team_members.items() if members]


@dataclass(slots=True)
class _Story:
    contacts: Sequence[Author]
    at: int
    horizon: int
    fast: bool  # long conversations: short delays, no business-hour waits
    parts: list[PartRecord] = field(default_factory=list)
    admin: Author | None = None
    team_id: str | None = None
    closed: bool = False
    stopped: bool = False
    snoozed_until: int | None = None
    bot_greeted: bool = False


def assignment_target(kind: str, target_id: str | None) -> dict[str, Any]:
    return {"type": kind, "id": target_id}


class StoryWriter:
    """Writes part timelines for conversations of one workspace."""

    def __init__(
        self,
        rng: random.Random,
        calendar: ActivityCalendar,
        staff: Staff,
        next_part_id: Callable[[], int],
        horizon: int,
    ) -> None:
        self.rng = rng
        self.calendar = calendar
        self.staff = staff
        self.next_part_id = next_part_id
        self.horizon = horizon

    # -- building blocks -------------------------------------------------------------

    def _add(self, story: _Story, part_type: str, author: Author, **extra: Any) -> None:
        story.parts.append(
            PartRecord(self.next_part_id(), story.at, part_type, author, **extra),
        )

    def _wait(self, story: _Story, seconds: int) -> bool:
        """Move the story's clock; False (and stop) when that passes the horizon."""
        if story.at + seconds > story.horizon:
            if not story.fast:
                story.stopped = True
                return False
            seconds = max(0, story.horizon - story.at)
        story.at += seconds
        return True

    def _wait_for_admin(self, story: _Story, median: float) -> bool:
        if story.fast:
            return self._wait(story, self.calendar.delay(self.rng, 3 * MINUTE, 1.0))
        answered = self.calendar.admin_response(self.rng, story.at, median)
        return self._wait(story, answered - story.at)

    def _wait_for_contact(self, story: _Story, median: float) -> bool:
        median = 4 * MINUTE if story.fast else median
        return self._wait(story, self.calendar.delay(self.rng, median, 1.4))

    def _pick_admin(self, story: _Story) -> Author:
        members = self.staff.team_members.get(story.team_id or "", ())
        pool = members or self.staff.admins
        return pool[self.rng.randrange(len(pool))]

    # -- scenes ------------------------------------------------------------------------

    def _routing(self, story: _Story) -> None:
        """Bot greeting and assignment rules, seconds after the conversation starts."""
        bot = self.staff.bot
        if self.rng.random() < 0.35 and self._wait(story, self.rng.randint(2, 20)):
            self._add(story, "comment", bot, body=self.rng.choice(BOT_BODIES))
            story.bot_greeted = True
        roll = self.rng.random()
        teams = self.staff.team_ids()
        if roll < 0.65 and teams and self._wait(story, self.rng.randint(1, 30)):
            story.team_id = self.rng.choice(teams)
            target = assignment_target("team", story.team_id)
            self._add(story, "default_assignment", bot, assigned_to=target)
        elif roll < 0.8 and self._wait(story, self.rng.randint(1, 30)):
            story.admin = self._pick_admin(story)
            target = assignment_target("admin", str(story.admin["id"]))
            self._add(story, "default_assignment", bot, assigned_to=target)
            if str(story.admin["id"]) in self.staff.away_reassign and teams:
                story.team_id = self.rng.choice(teams)
                target = assignment_target("team", story.team_id)
                self._add(story, "away_mode_assignment", story.admin, assigned_to=target)
                story.admin = None

    def _admin_reply(self, story: _Story, median: float) -> bool:
        if not self._wait_for_admin(story, median):
            return False
        if story.admin is None:
            story.admin = self._pick_admin(story)
            target = assignment_target("admin", str(story.admin["id"]))
            self._add(story, "assignment", story.admin, assigned_to=target)
        if self.rng.random() < 0.1:
            self._add(story, "note", story.admin, body=self.rng.choice(NOTE_BODIES))
        self._add(story, "comment", story.admin, body=self.rng.choice(ADMIN_BODIES))
        story.closed = False
        return True

    def _contact_reply(self, story: _Story, median: float) -> bool:
        if not self._wait_for_contact(story, median):
            return False
        author = story.contacts[0]
        if len(story.contacts) > 1 and self.rng.random() < 0.3:
            author = story.contacts[1]
        self._add(story, "comment", author, body=self.rng.choice(CONTACT_BODIES))
        story.closed = False
        story.snoozed_until = None
        return True

    def _reassign(self, story: _Story) -> None:
        assert story.admin is not None
        teams = self.staff.team_ids()
        if teams and self.rng.random() < 0.5:
            story.team_id = self.rng.choice(teams)
            target = assignment_target("team", story.team_id)
            self._add(story, "assignment", story.admin, assigned_to=target)
            story.admin = None
            return
        new_admin = self._pick_admin(story)
        target = assignment_target("admin", str(new_admin["id"]))
        self._add(story, "assignment", story.admin, assigned_to=target)
        story.admin = new_admin

    def _snooze(self, story: _Story) -> None:
        """Snooze for a while; the timer wakes it unless the contact writes first."""
        assert story.admin is not None
        until = story.at + self.calendar.delay(self.rng, DAY, 0.8)
        self._add(story, "snoozed", story.admin, snoozed_until=until)
        story.snoozed_until = until
        if self.rng.random() < 0.6:
            self._wake(story)

    def _wake(self, story: _Story) -> None:
        """The snooze timer fires, unless that is still in the future (then it stays)."""
        assert story.snoozed_until is not None
        if story.snoozed_until > story.horizon:
            story.stopped = True
            return
        story.at = max(story.at, story.snoozed_until)
        story.snoozed_until = None
        self._add(story, "timer_unsnooze", self.staff.bot)

    def _exchanges(self, story: _Story, rounds: int) -> None:
        for _ in range(rounds):
            if not self._contact_reply(story, 30 * MINUTE):
                return
            if story.admin is not None and self.rng.random() < 0.08:
                self._reassign(story)
            if not self._admin_reply(story, 15 * MINUTE):
                return
            if not story.fast and self.rng.random() < 0.05:
                self._snooze(story)
                if story.stopped:
                    return

    def _close(
        self, story: _Story, closer: Author | None = None, median: float = 10 * MINUTE
    ) -> bool:
        closer = closer or story.admin or self._pick_admin(story)
        if not self._wait(story, self.calendar.delay(self.rng, median, 1.0)):
            return False
        self._add(story, "close", closer)
        story.closed = True
        story.snoozed_until = None
        return True

    def _final_close(self, story: _Story) -> bool:
        """Most conversations are closed by their teammate; some by a workflow once the
        contact has gone quiet for a day or two, and a few by the contact."""
        roll = self.rng.random()
        if roll < 0.12:
            return self._close(story, self.staff.bot, median=DAY)
        if roll < 0.18:
            return self._close(story, story.contacts[0], median=30 * MINUTE)
        return self._close(story)

    def _bot_resolution(self, story: _Story) -> bool:
        """The bot's answer is enough: the contact says thanks, or not, and the bot closes."""
        if not self._wait(story, self.rng.randint(5, 90)):
            return False
        self._add(story, "comment", self.staff.bot, body=self.rng.choice(BOT_BODIES))
        if self.rng.random() < 0.5 and not self._contact_reply(story, 3 * MINUTE):
            return False
        return self._close(story, self.staff.bot, median=5 * MINUTE)

    def _reopen_cycle(self, story: _Story) -> None:
        """A contact writes again days after the close; the team answers and closes."""
        if not self._wait(story, self.calendar.delay(self.rng, 3 * DAY, 1.0)):
            return
        if self.rng.random() < 0.3:  # a teammate reopens it to follow up
            story.admin = story.admin or self._pick_admin(story)
            self._add(story, "open", story.admin)
            self._add(story, "comment", story.admin, body=self.rng.choice(ADMIN_BODIES))
            if self._contact_reply(story, 2 * HOUR) and self._admin_reply(story, 20 * MINUTE):
                self._close(story)
            return
        author = story.contacts[0]
        self._add(story, "comment", author, body=self.rng.choice(CONTACT_BODIES))
        if self._admin_reply(story, 20 * MINUTE) and self.rng.random() < 0.9:
            self._close(story)

    def _ending(self, story: _Story) -> None:
        if story.snoozed_until is not None:
            self._wake(story)
            if story.stopped:
                return
        age = story.horizon - story.at
        close_chance = 0.55 if age < 3 * DAY else 0.85 if age < 30 * DAY else 0.97
        if self.rng.random() < close_chance:
            if self._final_close(story) and self.rng.random() < 0.12:
                self._reopen_cycle(story)
        elif story.admin is not None and age < 30 * DAY and self.rng.random() < 0.35:
            until = story.horizon + self.calendar.delay(self.rng, 2 * DAY, 0.8)
            self._add(story, "snoozed", story.admin, snoozed_until=until)

    # -- whole conversations --------------------------------------------------------------

    def write(
        self,
        created_at: int,
        contacts: Sequence[Author],
        source_author: Author,
        long_parts: int | None = None,
    ) -> list[PartRecord]:
        """The parts of a conversation started at `created_at` by `source_author`.

        `long_parts` asks for a long conversation of nearly that many parts (up to
        four fewer), which ends closed.
        """
        story = _Story(contacts, created_at, self.horizon, fast=long_parts is not None)
        contact_started = source_author["type"] in ("user", "lead")
        if not contact_started:
            story.admin = source_author if source_author["type"] == "admin" else None
            if self.rng.random() < 0.5 or not self._contact_reply(story, 2 * HOUR):
                if not story.stopped and self.rng.random() < 0.7:
                    self._close(story)
                return story.parts
        else:
            self._routing(story)
            if story.bot_greeted and long_parts is None and self.rng.random() < 0.25:
                self._bot_resolution(story)
                return story.parts
        if not self._admin_reply(story, 25 * MINUTE):
            return story.parts
        if long_parts is not None:
            # An exchange adds two to five parts and the close one, so this ends
            # between five parts below `long_parts` and `long_parts` itself.
            while len(story.parts) < long_parts - 5:
                self._exchanges(story, 1)
            self._close(story)
            return story.parts
        self._exchanges(story, min(14, int(self.rng.expovariate(1 / 2.2))))
        if not story.stopped:
            self._ending(story)
        return story.parts
