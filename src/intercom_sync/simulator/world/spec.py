"""What a simulated workspace holds: its sizes, its time span and its seed.

Same `WorldSpec`, same workspace, byte for byte. `PRESETS` are the named scales the
tests, benchmarks and `intercom-sync simulate --scale` use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DAY = 86_400


@dataclass(frozen=True)
class WorldSpec:
    """Sizes and time span of a seeded workspace. Same spec → same workspace."""

    seed: int = 1
    admins: int = 5
    teams: int = 3
    tags: int = 8
    segments: int = 4
    companies: int = 20
    contacts: int = 60
    conversations: int = 40
    tickets: int = 10
    activity_logs: int = 40
    # Conversations whose history exceeds the API's 500-part cap.
    long_conversations: int = 1
    history_days: int = 365
    # "Now" of the generated world (Unix seconds); the simulated clock starts here.
    now: int = 1_767_225_600  # 2026-01-01T00:00:00Z
    timezone: str = "America/New_York"
    workspace_id: str = "sim0ws42"

    @classmethod
    def preset(cls, name: str, seed: int = 1, **overrides: int | str) -> WorldSpec:
        if name not in PRESETS:
            raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(PRESETS)}")
        return replace(PRESETS[name], seed=seed, **overrides)  # type: ignore[arg-type]


PRESETS: dict[str, WorldSpec] = {
    "tiny": WorldSpec(),
    "small": WorldSpec(
        admins=25,
        teams=6,
        tags=40,
        segments=12,
        companies=300,
        contacts=2_000,
        conversations=1_500,
        tickets=120,
        activity_logs=600,
        long_conversations=2,
    ),
    "medium": WorldSpec(
        admins=80,
        teams=15,
        tags=150,
        segments=40,
        companies=3_000,
        contacts=30_000,
        conversations=20_000,
        tickets=2_000,
        activity_logs=5_000,
        long_conversations=5,
    ),
    "large": WorldSpec(
        admins=250,
        teams=40,
        tags=400,
        segments=80,
        companies=20_000,
        contacts=200_000,
        conversations=100_000,
        tickets=10_000,
        activity_logs=20_000,
        long_conversations=10,
    ),
}
