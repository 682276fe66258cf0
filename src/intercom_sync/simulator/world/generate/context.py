"""What every generator gets: the tables to fill, the calendar, and a seeded stream per kind.

Every kind of record draws from its own `random.Random(f"{seed}/{kind}")`, so
the same spec always yields the same bytes, and changing how many tickets a
spec asks for does not reshuffle its contacts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from intercom_sync.simulator.world.generate.activity_time import ActivityCalendar
from intercom_sync.simulator.world.tables import WorldTables


@dataclass
class GenContext:
    world: WorldTables
    calendar: ActivityCalendar

    def rng(self, kind: str) -> random.Random:
        return random.Random(f"{self.world.spec.seed}/{kind}")

    @property
    def horizon(self) -> int:
        """The last second anything generated may happen at."""
        return self.world.spec.now - 1

    def early_time(self, rng: random.Random, share: float = 0.05) -> int:
        """A moment in the first `share` of the history (workspace set-up, imports)."""
        start = self.calendar.start
        return start + rng.randrange(max(1, int((self.horizon - start) * share)))
