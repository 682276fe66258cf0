"""The workspace's organisation: admins, teams, tags, segments, data attributes, companies.

Made first (see `populate`): the people, conversations and tickets generated next link
to them. `company_name` and `company_record` also make the `Mutator`'s new companies.
"""

from __future__ import annotations

import random
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.attributes import company_custom_values, data_attributes
from intercom_sync.simulator.world.generate.context import GenContext
from intercom_sync.simulator.world.ids import NumericIds, object_id
from intercom_sync.simulator.world.records import tag_record
from intercom_sync.simulator.world.spec import DAY
from intercom_sync.simulator.world.tables import WorldTables

Record = dict[str, Any]


def _person_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` distinct (first, last) name pairs."""
    chosen: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(chosen) < count:
        pair = (rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES))
        if pair not in seen or len(seen) >= len(names.FIRST_NAMES) * len(names.LAST_NAMES):
            seen.add(pair)
            chosen.append(pair)
    return chosen


def make_admins(context: GenContext) -> None:
    world, rng = context.world, context.rng("admins")
    ids = NumericIds(rng, 4_000_000, 6_000_000, step_max=9)
    domain = f"{world.spec.workspace_id}.example.com"
    for index, (first, last) in enumerate(_person_names(rng, world.spec.admins)):
        admin_id = ids.take()
        away = rng.random() < 0.1
        world.admins[admin_id] = {
            "type": "admin",
            "id": admin_id,
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{index}@{domain}",
            "job_title": rng.choice(names.JOB_TITLES),
            "away_mode_enabled": away,
            "away_mode_reassign": away and rng.random() < 0.6,
            "has_inbox_seat": index == 0 or rng.random() < 0.85,
            "team_ids": [],
            "avatar": (
                {"image_url": f"https://static.example.com/avatars/{admin_id}.png"}
                if rng.random() < 0.7
                else None
            ),
        }
    world.bot = {
        "type": "bot",
        "id": ids.take(),
        "name": "Fin",
        "email": f"operator+{world.spec.workspace_id}@intercom.io",
    }


def make_teams(context: GenContext) -> None:
    """Teams of inbox teammates; admins' `team_ids` and teams' `admin_ids` agree."""
    world, rng = context.world, context.rng("teams")
    ids = NumericIds(rng, 7_000_000, 9_000_000, step_max=5)
    team_ids = [ids.take() for _ in range(world.spec.teams)]
    members: dict[str, list[str]] = {team_id: [] for team_id in team_ids}
    inbox = [admin_id for admin_id, admin in world.admins.items() if admin["has_inbox_seat"]]
    for admin_id in inbox if team_ids else []:
        roll = rng.random()
        count = 0 if roll < 0.05 else 2 if roll > 0.88 else 1
        for team_id in rng.sample(team_ids, min(count, len(team_ids))):
            members[team_id].append(admin_id)
    for position, team_id in enumerate(team_ids):
        if not members[team_id] and inbox:
            members[team_id].append(inbox[position % len(inbox)])
    for position, team_id in enumerate(team_ids):
        base = names.TEAM_NAMES[position % len(names.TEAM_NAMES)]
        suffix = (
            f" {position // len(names.TEAM_NAMES) + 1}" if position >= len(names.TEAM_NAMES) else ""
        )
        admin_ids = sorted(set(members[team_id]), key=int)
        world.teams[team_id] = {
            "type": "team",
            "id": team_id,
            "name": base + suffix,
            "admin_ids": [int(admin_id) for admin_id in admin_ids],
        }
        for admin_id in admin_ids:
            world.admins[admin_id]["team_ids"].append(int(team_id))


def make_tags(context: GenContext) -> None:
    world, rng = context.world, context.rng("tags")
    ids = NumericIds(rng, 100_000, 900_000, step_max=40)
    for position in range(world.spec.tags):
        word = names.TAG_WORDS[position % len(names.TAG_WORDS)]
        round_ = position // len(names.TAG_WORDS)
        tag_id = ids.take()
        world.tags[tag_id] = tag_record(tag_id, word if round_ == 0 else f"{word}-{round_ + 1}")


def make_segments(context: GenContext) -> None:
    world, rng = context.world, context.rng("segments")
    made = sorted(context.early_time(rng, 0.3) for _ in range(world.spec.segments))
    for position, created_at in enumerate(made):
        word = names.SEGMENT_WORDS[position % len(names.SEGMENT_WORDS)]
        round_ = position // len(names.SEGMENT_WORDS)
        segment_id = object_id(rng, created_at)
        person_type = "contact" if "lead" in word.lower() or rng.random() < 0.25 else "user"
        world.segments[segment_id] = {
            "type": "segment",
            "id": segment_id,
            "name": word if round_ == 0 else f"{word} {round_ + 1}",
            "created_at": created_at,
            "updated_at": created_at + rng.randrange(max(1, context.horizon - created_at)),
            "person_type": person_type,
        }


def make_data_attributes(context: GenContext) -> None:
    world, rng = context.world, context.rng("data_attributes")
    admin_ids = list(world.admins) or ["0"]
    for model in ("contact", "company"):
        world.data_attributes[model] = data_attributes(
            model, admin_ids, context.calendar.start, rng
        )


def company_name(rng: random.Random, taken: set[str]) -> str:
    name = f"{rng.choice(names.COMPANY_ROOTS)} {rng.choice(names.COMPANY_SUFFIXES)}"
    while name in taken:
        name = (
            f"{rng.choice(names.COMPANY_ROOTS)} {rng.choice(names.COMPANY_SUFFIXES)} {len(taken)}"
        )
    taken.add(name)
    return name


def make_companies(context: GenContext) -> None:
    world, rng = context.world, context.rng("companies")
    times = sorted(
        context.early_time(rng) if rng.random() < 0.3 else context.calendar.sample(rng)
        for _ in range(world.spec.companies)
    )
    taken: set[str] = set()
    tag_list = list(world.tags.values())
    segment_ids = list(world.segments)
    for position, created_at in enumerate(times):
        company_id = object_id(rng, created_at)
        chosen_segments = rng.sample(segment_ids, min(len(segment_ids), rng.choice((0, 1, 1, 2))))
        world.company_segment_ids[company_id] = chosen_segments
        tags = rng.sample(tag_list, min(len(tag_list), rng.choice((0, 0, 1, 2))))
        name = company_name(rng, taken)
        world.companies[company_id] = company_record(
            world, rng, company_id, created_at, position + 1, name, tags, context.horizon
        )


def company_record(
    world: WorldTables,
    rng: random.Random,
    company_id: str,
    created_at: int,
    number: int,
    name: str,
    tags: list[Record],
    horizon: int,
) -> Record:
    """A `company` (scroll shape); its segments come from `world.company_segment_ids`."""
    last_request_at = created_at + rng.randrange(max(1, horizon - created_at))
    plan_name = rng.choice(names.PLANS)
    manager = world.admins[rng.choice(list(world.admins))]["name"] if world.admins else ""
    slug = name.lower().replace(" ", "")
    return {
        "type": "company",
        "company_id": f"cmp-{number:06d}",
        "id": company_id,
        "app_id": world.spec.workspace_id,
        "name": name,
        "remote_created_at": created_at - rng.randrange(3 * 365 * DAY),
        "created_at": created_at,
        "updated_at": max(created_at, last_request_at - rng.randrange(DAY)),
        "last_request_at": last_request_at,
        "monthly_spend": int(rng.lognormvariate(6.0, 1.3)),
        "session_count": rng.randrange(5_000),
        "user_count": 0,  # set once contacts are linked
        "size": int(rng.lognormvariate(3.5, 1.5)) + 1,
        "website": f"https://www.{slug}.example",
        "industry": rng.choice(names.INDUSTRIES),
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": tag["id"], "name": tag["name"]} for tag in tags],
        },
        "segments": {
            "type": "segment.list",
            "segments": [world.segments[sid] for sid in world.company_segment_ids[company_id]],
        },
        "plan": (
            {"type": "plan", "id": str(names.PLANS.index(plan_name) + 1), "name": plan_name}
            if rng.random() < 0.8
            else {}
        ),
        "custom_attributes": company_custom_values(rng, manager),
    }
