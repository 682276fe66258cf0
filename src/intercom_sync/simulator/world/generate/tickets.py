"""Generated ticket types, tickets (with their state history) and admin activity logs."""

from __future__ import annotations

import bisect
import random
from typing import Any

from intercom_sync.simulator.world.generate import names
from intercom_sync.simulator.world.generate.activity_time import HOUR
from intercom_sync.simulator.world.generate.context import GenContext
from intercom_sync.simulator.world.generate.weighted import Weighted
from intercom_sync.simulator.world.ids import NumericIds, uuid_from
from intercom_sync.simulator.world.records import (
    build_ticket,
    contact_reference,
    ticket_part,
)
from intercom_sync.simulator.world.spec import DAY

Record = dict[str, Any]

# name, category, icon, description
TICKET_TYPES = (
    ("Bug report", "Tracker", "\U0001f41e", "Problems engineering needs to fix"),
    ("Question", "Customer", "\U0001f4ac", "Questions that need research"),
    ("Refund request", "Customer", "\U0001f4b8", "Requests for money back"),
    ("Access request", "Back-office", "\U0001f511", "Internal access and permission changes"),
)
TICKET_ATTRIBUTES = (
    ("_default_title_", "Title", True),
    ("_default_description_", "Description", False),
)


def _ticket_type_attribute(
    world_id: str, attribute_id: str, type_id: str, order: int, created_at: int
) -> Record:
    name, description, required = TICKET_ATTRIBUTES[order]
    return {
        "type": "ticket_type_attribute",
        "id": attribute_id,
        "workspace_id": world_id,
        "name": name,
        "description": description,
        "data_type": "string",
        "input_options": {"multiline": order == 1},
        "order": order,
        "required_to_create": required,
        "required_to_create_for_contacts": False,
        "visible_on_create": True,
        "visible_to_contacts": True,
        "default": True,
        "ticket_type_id": int(type_id),
        "archived": False,
        "created_at": created_at,
        "updated_at": created_at,
    }


def make_ticket_types(context: GenContext, rng: random.Random) -> None:
    world = context.world
    workspace = world.spec.workspace_id
    ids = NumericIds(rng, 100, 900, step_max=3)
    attribute_ids = NumericIds(rng, 1_000, 9_000, step_max=3)
    for name, category, icon, description in TICKET_TYPES:
        type_id = ids.take()
        created_at = context.early_time(rng, 0.1)
        attributes = [
            _ticket_type_attribute(workspace, attribute_ids.take(), type_id, order, created_at)
            for order in range(len(TICKET_ATTRIBUTES))
        ]
        world.ticket_types[type_id] = {
            "type": "ticket_type",
            "id": type_id,
            "category": category,
            "name": name,
            "description": description,
            "icon": icon,
            "workspace_id": workspace,
            "ticket_type_attributes": {
                "type": "ticket_type_attributes.list",
                "ticket_type_attributes": attributes,
            },
            "archived": False,
            "created_at": created_at,
            "updated_at": created_at,
            "is_internal": category == "Back-office",
        }


def ticket_author(record: Record, kind: str) -> Record:
    """A `ticket_part_author` for an admin or a contact (contacts author as `user`)."""
    return {
        "type": kind,
        "id": record["id"],
        "name": record.get("name"),
        "email": record.get("email") or "",
    }


def _state_history(
    context: GenContext, rng: random.Random, created_at: int
) -> list[tuple[int, str]]:
    """(moment, state) changes after submission; fewer for recent tickets."""
    calendar, horizon = context.calendar, context.horizon
    changes: list[tuple[int, str]] = []
    at = calendar.admin_response(rng, created_at, 2 * HOUR)
    path = ["in_progress"]
    if rng.random() < 0.35:
        path += ["waiting_on_customer", "in_progress"]
    path.append("resolved")
    if horizon - created_at < 30 * DAY and rng.random() < 0.6:
        path = path[: rng.randrange(len(path))]  # recent tickets are often still in flight
    for state in path:
        if at > horizon:
            break
        changes.append((at, state))
        at += calendar.delay(rng, DAY if state != "waiting_on_customer" else 8 * HOUR, 1.1)
    return changes


def make_tickets(context: GenContext) -> None:
    world, rng = context.world, context.rng("tickets")
    make_ticket_types(context, rng)
    if not world.spec.tickets:
        return
    ids = NumericIds(rng, 10_000, 90_000, step_max=4)
    part_ids = NumericIds(rng, 1_000_000, 2_000_000, step_max=3)
    contacts = list(world.contacts.values())
    contact_times = [contact["created_at"] for contact in contacts]
    admins, teams, types = list(world.admins.values()), list(world.teams), list(world.ticket_types)
    times = sorted(context.calendar.sample(rng) for _ in range(world.spec.tickets))
    for position, created_at in enumerate(times):
        contact = contacts[rng.randrange(max(1, bisect.bisect_right(contact_times, created_at)))]
        created_at = max(created_at, contact["created_at"])
        admin = rng.choice(admins) if admins and rng.random() < 0.75 else None
        parts = [
            ticket_part(
                part_ids.take(), created_at, None, "submitted", ticket_author(contact, "user")
            )
        ]
        previous = "submitted"
        for at, state in _state_history(context, rng, created_at):
            author = ticket_author(admin or rng.choice(admins), "admin")
            parts.append(ticket_part(part_ids.take(), at, previous, state, author))
            previous = state
        title = rng.choice(names.TICKET_TITLES)
        static = {
            "id": ids.take(),
            "ticket_id": str(position + 1),
            "ticket_attributes": {
                "_default_title_": title,
                "_default_description_": f"<p>{title}</p>",
            },
            "ticket_type": world.ticket_types[rng.choice(types)],
            "contacts": {"type": "contact.list", "contacts": [contact_reference(contact)]},
            "admin_assignee_id": admin["id"] if admin else "0",
            "team_assignee_id": rng.choice(teams) if teams and rng.random() < 0.5 else "0",
            "created_at": created_at,
        }
        record = build_ticket(static, parts)
        world.tickets[record["id"]] = record


# activity_type, weight
ACTIVITY_MIX = (
    ("admin_login_success", 35), ("admin_logout", 10), ("admin_away_mode_change", 14),
    ("admin_login_failure", 3), ("app_team_membership_modification", 4),
    ("admin_permission_change", 3), ("conversation_part_deletion", 2),
    ("inbox_access_change", 3), ("role_change", 2), ("message_state_change", 5),
    ("app_name_change", 1), ("office_hours_change", 2), ("seat_change", 3),
    ("admin_invite_creation", 3), ("campaign_state_change", 3), ("bulk_export", 2),
    ("app_data_export", 1), ("admin_password_reset_request", 2),
    ("admin_assignment_limit_change", 1), ("admin_two_factor_auth_change", 1),
)  # fmt: skip
ACTIVITY_TYPES = Weighted(ACTIVITY_MIX)
AWAY_REASONS = ("On a break", "Done for the day", "In a meeting", None)


def activity_details(
    rng: random.Random, kind: str, admin: Record, other: Record
) -> tuple[Record, str]:
    """(metadata, description) for one activity, in Intercom's wording style."""
    name = admin["name"]
    if kind in ("admin_login_success", "admin_login_failure"):
        method = rng.choice(("email_password", "google_sso", "saml"))
        verb = "logged in" if kind == "admin_login_success" else "failed to log in"
        return {"sign_in_method": method}, f"{name} {verb} using {method}."
    if kind == "admin_away_mode_change":
        away = rng.random() < 0.5
        metadata: Record = {
            "away_mode": away,
            "away_status_reason": rng.choice(AWAY_REASONS) if away else None,
            "reassign_conversations": away and rng.random() < 0.5,
        }
        return metadata, f"{name} turned {'on' if away else 'off'} away mode."
    if kind in ("admin_permission_change", "role_change", "app_team_membership_modification"):
        metadata = {"update_by": int(admin["id"]), "update_by_name": name}
        return metadata, f"{name} changed settings for {other['name']}."
    return {}, f"{name} performed {kind.replace('_', ' ')}."


def activity_log(rng: random.Random, at: int, admin: Record, other: Record) -> Record:
    kind = ACTIVITY_TYPES.pick(rng)
    metadata, description = activity_details(rng, kind, admin, other)
    return {
        "id": uuid_from(rng),
        "performed_by": {
            "type": "admin",
            "id": admin["id"],
            "email": admin["email"],
            "ip": f"203.0.113.{rng.randrange(1, 255)}",
        },
        "metadata": metadata,
        "created_at": at,
        "activity_type": kind,
        "activity_description": description,
    }


def make_activity_logs(context: GenContext) -> None:
    world, rng = context.world, context.rng("activity_logs")
    admins = list(world.admins.values())
    if not admins:
        return
    # Some teammates are far more active than others.
    activity = Weighted((admin, rng.paretovariate(1.5)) for admin in admins)
    times = sorted(context.calendar.sample(rng) for _ in range(world.spec.activity_logs))
    for at in times:
        admin = activity.pick(rng)
        world.activity_logs.append(activity_log(rng, at, admin, rng.choice(admins)))
