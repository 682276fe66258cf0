"""Identifiers shaped like Intercom's.

Contacts, companies and segments carry 24-hex ids (a 4-byte creation time and
8 random bytes, like a database object id, so they sort roughly by age);
admins, teams, tags, conversations, parts, notes and tickets carry numeric
strings of a fixed width, so string order equals numeric order.
"""

from __future__ import annotations

import random
import uuid


def object_id(rng: random.Random, created_at: int) -> str:
    """A 24-hex id whose first 8 digits are the creation time."""
    return f"{created_at & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"


def uuid_from(rng: random.Random) -> str:
    """A version-4 UUID drawn from a seeded generator (activity log ids)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class NumericIds:
    """Increasing numeric ids from a seeded starting point, all of the same width."""

    def __init__(self, rng: random.Random, low: int, high: int, step_max: int = 1) -> None:
        self._next = rng.randrange(low, high)
        self._rng = rng
        self._step_max = step_max

    def take(self) -> str:
        value = self._next
        step = 1 if self._step_max <= 1 else self._rng.randint(1, self._step_max)
        self._next += step
        return str(value)

    def peek(self) -> int:
        return self._next

    def restore(self, next_value: int) -> None:
        self._next = max(self._next, next_value)
