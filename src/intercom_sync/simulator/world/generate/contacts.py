"""Generated contacts (users and leads) and their links to companies, tags, segments, notes.

A few contacts deliberately hold more than ten companies, tags or notes, so
their embedded lists report `has_more` and a sync must fetch the rest.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.attributes import contact_custom_values
from intercom_sync.simulator.world.generate.context import GenContext
from intercom_sync.simulator.world.generate.weighted import Weighted
from intercom_sync.simulator.world.ids import NumericIds, object_id
from intercom_sync.simulator.world.records import (
    EMBED_LIMIT,
    ContactLinks,
    subscription_list,
    with_links,
)
from intercom_sync.simulator.world.tables import WorldTables

Record = dict[str, Any]
USER_COMPANY_COUNTS = Weighted([(0, 10), (1, 80), (2, 7), (3, 3)])
TAG_COUNTS = Weighted([(0, 60), (1, 25), (2, 10), (3, 5)])
NOTE_COUNTS = Weighted([(0, 80), (1, 12), (2, 8)])
NULL_DEVICE_FIELDS = ("app_name", "app_version", "device", "os_version", "sdk_version")


@dataclass
class ContactPools:
    """What new contacts link to and must not collide with."""

    company_ids: list[str]
    company_domains: dict[str, str]
    tag_ids: list[str]
    user_segments: list[str]
    lead_segments: list[str]
    admin_ids: list[str]
    note_ids: NumericIds
    heavy: dict[int, str]  # contact position -> "companies" | "tags" | "notes"
    emails: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, world: WorldTables, note_ids: NumericIds, heavy: dict[int, str]) -> ContactPools:
        # Time-based segments compute their members; nobody is listed in one.
        segments = {k: v for k, v in world.segments.items() if k not in world.time_segments}
        return cls(
            company_ids=list(world.companies),
            company_domains={
                cid: company["website"].removeprefix("https://www.")
                for cid, company in world.companies.items()
            },
            tag_ids=list(world.tags),
            user_segments=[sid for sid, s in segments.items() if s["person_type"] == "user"],
            lead_segments=[sid for sid, s in segments.items() if s["person_type"] == "contact"],
            admin_ids=list(world.admins),
            note_ids=note_ids,
            heavy=heavy,
            emails={contact["email"] for contact in world.contacts.values()},
        )


def _heavy_positions(rng: random.Random, count: int, context: GenContext) -> dict[int, str]:
    """Which contacts get more than ten companies, tags or notes."""
    kinds = ["notes"]
    if len(context.world.companies) > EMBED_LIMIT:
        kinds.append("companies")
    if len(context.world.tags) > EMBED_LIMIT:
        kinds.append("tags")
    per_kind = max(1, count // 500) if count else 0
    chosen = rng.sample(range(count), min(count, per_kind * len(kinds)))
    return {position: kinds[index % len(kinds)] for index, position in enumerate(chosen)}


def make_contacts(context: GenContext) -> None:
    world, rng = context.world, context.rng("contacts")
    count = world.spec.contacts
    times = sorted(
        context.early_time(rng, 0.05) if rng.random() < 0.2 else context.calendar.sample(rng)
        for _ in range(count)
    )
    note_ids = NumericIds(rng, 10_000_000, 20_000_000, step_max=3)
    pools = ContactPools.of(world, note_ids, _heavy_positions(rng, count, context))
    workspace_id = world.spec.workspace_id
    users_per_company: Counter[str] = Counter()
    for position, created_at in enumerate(times):
        is_user = position in pools.heavy or rng.random() < 0.75
        links = contact_links(rng, pools, pools.heavy.get(position), is_user)
        contact = build_contact(
            rng, pools, workspace_id, context.horizon, position + 1, created_at, is_user, links
        )
        world.contacts[contact["id"]] = contact
        world.contact_links[contact["id"]] = links
        if is_user:
            users_per_company.update(links.company_ids)
    for company_id, company in world.companies.items():
        company["user_count"] = users_per_company[company_id]


def _pick(rng: random.Random, pool: list[str], count: int) -> list[str]:
    return rng.sample(pool, min(count, len(pool)))


def contact_links(
    rng: random.Random, pools: ContactPools, heavy: str | None, is_user: bool
) -> ContactLinks:
    """Random relations for a new contact; `heavy` names a list to fill past ten."""
    if heavy == "companies":
        company_count = rng.randint(EMBED_LIMIT + 1, min(25, len(pools.company_ids)))
    elif is_user:
        company_count = USER_COMPANY_COUNTS.pick(rng)
    else:
        company_count = 1 if rng.random() < 0.05 else 0
    if heavy == "tags":
        tag_count = rng.randint(EMBED_LIMIT + 1, min(20, len(pools.tag_ids)))
    else:
        tag_count = TAG_COUNTS.pick(rng)
    note_count = rng.randint(EMBED_LIMIT + 1, 14) if heavy == "notes" else NOTE_COUNTS.pick(rng)
    segments = pools.user_segments if is_user else pools.lead_segments
    return ContactLinks(
        tag_ids=_pick(rng, pools.tag_ids, tag_count),
        company_ids=_pick(rng, pools.company_ids, company_count),
        segment_ids=_pick(rng, segments, rng.choice((0, 1, 1, 2, 3))),
        note_ids=[pools.note_ids.take() for _ in range(note_count)],
    )


def _email(rng: random.Random, pools: ContactPools, first: str, last: str, domain: str) -> str:
    local = f"{first}.{last}".lower()
    email = f"{local}@{domain}"
    while email in pools.emails:
        email = f"{local}{rng.randrange(10, 100_000)}@{domain}"
    pools.emails.add(email)
    return email


def _moment_between(rng: random.Random, start: int, end: int) -> int:
    """A moment in [start, end], biased towards the end (recent activity)."""
    return start + int((end - start) * (1.0 - rng.random() ** 2))


def _device_fields(platform: str, seen_at: int | None, is_app: bool) -> Record:
    values: Record = {f"{platform}_{name}": None for name in NULL_DEVICE_FIELDS}
    values[f"{platform}_last_seen_at"] = None
    if is_app and seen_at is not None:
        values.update(
            {
                f"{platform}_app_name": "Example Mobile",
                f"{platform}_app_version": "4.12.0",
                f"{platform}_device": "iPhone15,2" if platform == "ios" else "Pixel 8",
                f"{platform}_os_version": "18.1" if platform == "ios" else "15",
                f"{platform}_sdk_version": "17.2.0",
                f"{platform}_last_seen_at": seen_at,
            }
        )
    return values


NO_LOCATION: Record = {
    "type": "location",
    "country": None,
    "region": None,
    "city": None,
    "country_code": None,
    "continent_code": None,
}
NO_SOCIAL_PROFILES: Record = {"type": "list", "data": []}
# One shared (immutable) location object per place.
LOCATIONS: tuple[Record, ...] = tuple(
    {
        "type": "location",
        "country": country,
        "region": region,
        "city": city,
        "country_code": code,
        "continent_code": names.CONTINENTS[code],
    }
    for country, region, city, code in names.COUNTRIES
)


def _location(rng: random.Random, seen: bool) -> Record:
    return rng.choice(LOCATIONS) if seen else NO_LOCATION


def build_contact(
    rng: random.Random,
    pools: ContactPools,
    workspace_id: str,
    horizon: int,
    number: int,
    created_at: int,
    is_user: bool,
    links: ContactLinks,
) -> Record:
    """A `contact` created at `created_at`; `number` makes its external_id."""
    contact_id = object_id(rng, created_at)
    record: Record = {"type": "contact", "id": contact_id, "workspace_id": workspace_id}
    record.update(_identity(rng, pools, number, is_user, links))
    record.update(_activity(rng, created_at, horizon, is_user, bool(record["email"])))
    record.update(_whereabouts(rng, record["last_seen_at"]))
    record["custom_attributes"] = contact_custom_values(rng, is_user, created_at, horizon)
    record = with_links(record, links)
    record.update(_trailer(contact_id, is_user, rng))
    return record


def _identity(
    rng: random.Random, pools: ContactPools, number: int, is_user: bool, links: ContactLinks
) -> Record:
    """Who the contact is: role, ids, name, email, phone, owner, preferences."""
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    named = is_user or rng.random() < 0.5
    domain = (
        pools.company_domains[links.company_ids[0]]
        if links.company_ids and rng.random() < 0.7
        else rng.choice(names.EMAIL_DOMAINS)
    )
    email = _email(rng, pools, first, last, domain) if is_user or rng.random() < 0.6 else None
    phone = f"+1555{rng.randrange(10**7):07d}" if rng.random() < 0.3 else None
    avatar = f"https://static.example.com/people/{number}.png"
    return {
        "external_id": f"u{number:07d}" if is_user else None,
        "role": "user" if is_user else "lead",
        "email": email or "",
        "email_domain": email.split("@")[1] if email else "",
        "phone": phone,
        "formatted_phone": phone,
        "name": f"{first} {last}" if named else None,
        "avatar": {"type": "avatar", "image_url": avatar} if rng.random() < 0.2 else None,
        "owner_id": int(rng.choice(pools.admin_ids)) if rng.random() < 0.25 else None,
        "social_profiles": _social_profiles(rng, first, last),
        "has_hard_bounced": rng.random() < 0.01,
        "marked_email_as_spam": rng.random() < 0.005,
        "unsubscribed_from_emails": rng.random() < 0.08,
    }


def _activity(
    rng: random.Random, created_at: int, horizon: int, is_user: bool, has_email: bool
) -> Record:
    """When the contact signed up, was last seen, and opened or clicked an email."""
    latest = max(created_at, horizon)
    signed_up_at = min(created_at + rng.randrange(3_600), latest) if is_user else None
    seen_at = (
        _moment_between(rng, created_at, horizon)
        if rng.random() < (0.9 if is_user else 0.5)
        else None
    )
    opened_at = (
        _moment_between(rng, created_at, horizon) if has_email and rng.random() < 0.3 else None
    )
    return {
        "created_at": created_at,
        "updated_at": max(created_at, signed_up_at or 0, seen_at or 0),
        "signed_up_at": signed_up_at,
        "last_seen_at": seen_at,
        "last_replied_at": None,  # set from conversations
        "last_contacted_at": None,
        "last_email_opened_at": opened_at,
        "last_email_clicked_at": opened_at if opened_at and rng.random() < 0.4 else None,
    }


def _whereabouts(rng: random.Random, seen_at: int | None) -> Record:
    """Language, browser, OS, location and mobile app of the last session (if any)."""
    browser, version = rng.choice(names.BROWSERS)
    os_name = rng.choice(names.OPERATING_SYSTEMS)
    platform_app = seen_at is not None and rng.random() < 0.3
    return {
        "language_override": rng.choice(names.LANGUAGES) if rng.random() < 0.1 else None,
        "browser": browser if seen_at else None,
        "browser_version": version if seen_at else None,
        "browser_language": "en" if seen_at else None,
        "os": os_name if seen_at else None,
        "location": _location(rng, seen_at is not None),
        **_device_fields("android", seen_at, platform_app and os_name.startswith("Android")),
        **_device_fields("ios", seen_at, platform_app and os_name.startswith("iOS")),
    }


def _social_profiles(rng: random.Random, first: str, last: str) -> Record:
    if rng.random() >= 0.1:
        return NO_SOCIAL_PROFILES
    handle = f"{first}{last}".lower()
    profile = {"type": "social_profile", "name": "Twitter", "url": f"https://x.com/{handle}"}
    return {"type": "list", "data": [profile]}


def _trailer(contact_id: str, is_user: bool, rng: random.Random) -> Record:
    from_campaign = not is_user and rng.random() < 0.3
    return {
        "opted_out_subscription_types": subscription_list(contact_id),
        "opted_in_subscription_types": subscription_list(contact_id),
        "utm_campaign": "spring_launch" if from_campaign else None,
        "utm_content": None,
        "utm_medium": "cpc" if from_campaign else None,
        "utm_source": "search" if from_campaign else None,
        "utm_term": None,
        "referrer": "https://www.example.com/pricing" if from_campaign else None,
    }
