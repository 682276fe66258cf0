"""Data attributes of contacts and companies, and the custom values records carry.

The standard attributes mirror what Intercom documents for each model; the
custom ones are what `custom_attributes` on generated contacts and companies
hold, so `GET /data_attributes` and the records agree. Names are unique per
model (the real service can repeat a `name` under different `full_name`s).
"""

from __future__ import annotations

import random
from typing import Any

# name, full_name, label, description, data_type, api_writable
_STANDARD: dict[str, tuple[tuple[str, str, str, str, str, bool], ...]] = {
    "contact": (
        ("name", "name", "Name", "The contact's full name", "string", True),
        ("email", "email", "Email", "The contact's email address", "string", True),
        ("phone", "phone", "Phone", "The contact's phone number", "string", True),
        ("external_id", "external_id", "User ID", "Your own id for the user", "string", True),
        ("role", "role", "Role", "Whether the contact is a user or a lead", "string", False),
        ("signed_up_at", "signed_up_at", "Signed up", "When the user signed up", "date", True),
        ("last_seen_at", "last_seen_at", "Last seen", "Last time seen", "date", True),
        ("created_at", "created_at", "First seen", "When the contact was created", "date", False),
        ("owner_id", "owner_id", "Owner", "The teammate who owns the contact", "integer", True),
        (
            "unsubscribed_from_emails", "unsubscribed_from_emails", "Unsubscribed from emails",
            "Whether the contact opted out of email", "boolean", True,
        ),
        ("language_override", "language_override", "Language", "Language", "string", True),
        ("browser", "browser", "Browser", "Browser of the last session", "string", False),
        ("os", "os", "OS", "Operating system of the last session", "string", False),
        ("city", "location.city", "City", "City from the last known location", "string", False),
        ("country", "location.country", "Country", "Country of the last location", "string", False),
    ),
    "company": (
        ("name", "name", "Company name", "The name of the company", "string", True),
        ("company_id", "company_id", "Company ID", "Your own id for the company", "string", False),
        (
            "remote_created_at", "remote_created_at", "Company created at",
            "When the company was created on your side", "date", True,
        ),
        ("last_request_at", "last_request_at", "Company last seen", "Last visit", "date", False),
        ("user_count", "user_count", "People", "How many people the company has", "integer", False),
        ("session_count", "session_count", "Sessions", "Visits from it", "integer", False),
        ("monthly_spend", "monthly_spend", "Monthly spend", "Monthly revenue", "float", True),
        ("size", "size", "Company size", "Number of employees", "integer", True),
        ("industry", "industry", "Industry", "The company's industry", "string", True),
        ("website", "website", "Website", "The company's website", "string", True),
        ("plan", "plan.name", "Plan", "The plan the company is on", "string", False),
    ),
}  # fmt: skip

# name, label, description, data_type, options
_CUSTOM: dict[str, tuple[tuple[str, str, str, str, tuple[str, ...]], ...]] = {
    "contact": (
        ("plan_tier", "Plan tier", "Billing tier", "string", ("free", "pro", "business")),
        ("seats", "Seats", "Seats the user manages", "integer", ()),
        ("beta_tester", "Beta tester", "Opted into beta features", "boolean", ()),
        ("signup_source", "Signup source", "Where the user came from", "string", ()),
        ("last_order_at", "Last order", "When the user last ordered", "date", ()),
        ("lifetime_value", "Lifetime value", "Revenue from the user so far", "float", ()),
    ),
    "company": (
        ("tier", "Tier", "Account tier", "string", ("bronze", "silver", "gold", "platinum")),
        ("region", "Region", "Sales region", "string", ("AMER", "EMEA", "APAC")),
        ("account_manager", "Account manager", "Who manages the account", "string", ()),
        ("renewal_quarter", "Renewal quarter", "When the contract renews", "string", ()),
    ),
}  # fmt: skip

SIGNUP_SOURCES = ("organic", "paid_search", "referral", "partner", "event")


def data_attributes(
    model: str, admin_ids: list[str], created_at: int, rng: random.Random
) -> list[dict[str, Any]]:
    """The `data_attribute` objects of one model, standard ones first."""
    records: list[dict[str, Any]] = []
    for name, full_name, label, description, data_type, writable in _STANDARD[model]:
        records.append(
            {
                "type": "data_attribute",
                "name": name,
                "full_name": full_name,
                "label": label,
                "description": description,
                "data_type": data_type,
                "api_writable": writable,
                "ui_writable": False,
                "messenger_writable": model == "contact",
                "custom": False,
                "archived": False,
                "model": model,
            }
        )
    for offset, (name, label, description, data_type, options) in enumerate(_CUSTOM[model]):
        made = created_at + rng.randrange(86_400 * 30)
        record: dict[str, Any] = {
            "id": 1000 + offset + (0 if model == "contact" else 100),
            "type": "data_attribute",
            "name": name,
            "full_name": f"custom_attributes.{name}",
            "label": label,
            "description": description,
            "data_type": data_type,
            "api_writable": True,
            "ui_writable": True,
            "messenger_writable": False,
            "custom": True,
            "archived": False,
            "admin_id": rng.choice(admin_ids),
            "created_at": made,
            "updated_at": made,
            "model": model,
        }
        if options:
            record["options"] = list(options)
        records.append(record)
    return records


def contact_custom_values(
    rng: random.Random, is_user: bool, created_at: int, latest: int
) -> dict[str, Any]:
    """Values for the contact custom attributes (users carry more than leads)."""
    if not is_user:
        return {"signup_source": rng.choice(SIGNUP_SOURCES)}
    ordered = rng.random() < 0.6
    window = max(1, min(86_400 * 60, latest - created_at))
    return {
        "plan_tier": rng.choice(_CUSTOM["contact"][0][4]),
        "seats": rng.randint(1, 50),
        "beta_tester": rng.random() < 0.15,
        "signup_source": rng.choice(SIGNUP_SOURCES),
        "last_order_at": created_at + rng.randrange(window) if ordered else None,
        "lifetime_value": round(rng.lognormvariate(5.0, 1.2), 2),
    }


def company_custom_values(rng: random.Random, manager: str) -> dict[str, str]:
    """Values for the company custom attributes (all strings, as the 2.11 schema says)."""
    return {
        "tier": rng.choice(_CUSTOM["company"][0][4]),
        "region": rng.choice(_CUSTOM["company"][1][4]),
        "account_manager": manager,
        "renewal_quarter": f"Q{rng.randint(1, 4)}",
    }
