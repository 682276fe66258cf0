"""Builds the JSON schemas the protocol adapters declare for their streams
(`src/intercom_sync/adapters/record_schemas.json`) from Intercom's OpenAPI files.

Each stream's schema lists the top-level fields of its OpenAPI component in every API
version the product speaks (2.11 and 2.14), each typed as the files type it (the union
where versions differ) and nullable; nested objects and lists are declared as such and
left open, because records are passed on exactly as Intercom sends them. Fields the
adapters add (a part's `conversation_id`, a company segment's `company_id`) and the
membership streams (which hold only two ids) are declared here too.

Regenerate after changing the mapping: `.venv/bin/python -m tests.record_schemas`.
`tests/contract/test_record_schemas.py` fails when the committed file is out of date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.openapi_schemas import openapi_document

OUTPUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "intercom_sync"
    / "adapters"
    / "record_schemas.json"
)
VERSIONS = ("2.11", "2.14")

# stream -> (OpenAPI component, fields the adapter adds with their JSON types)
COMPONENTS: dict[str, tuple[str, dict[str, str]]] = {
    "admins": ("admin", {}),
    "teams": ("team", {}),
    "tags": ("tag", {}),
    "segments": ("segment", {}),
    "contact_attributes": ("data_attribute", {}),
    "company_attributes": ("data_attribute", {}),
    # Fields in the files' response examples of these objects that their components omit.
    "contacts": (
        "contact",
        {
            "opted_in_subscription_types": "object",
            "opted_out_subscription_types": "object",
            **{f"utm_{k}": "string" for k in ("campaign", "content", "medium", "source", "term")},
            "referrer": "string",
        },
    ),
    "conversations": ("conversation", {"topics": "object", "ticket": "object"}),
    "conversation_parts": ("conversation_part", {"conversation_id": "string"}),
    "companies": ("company", {}),
    "company_segments": ("segment", {"company_id": "string"}),
    "tickets": ("ticket", {}),
    "activity_logs": ("activity_log", {}),
}
MEMBERSHIPS = {
    "contact_segments": ("contact_id", "segment_id"),
    "contact_tags": ("contact_id", "tag_id"),
}


def _json_types(node: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The JSON types a property may take, following `$ref`s; empty: anything."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = components.get(ref.rsplit("/", 1)[-1])
        # A component the file references but does not define is an object (2.11's
        # custom_attributes): everything that points at one uses it as such.
        return _json_types(target, components) if target is not None else {"object"}
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            found = [_json_types(n, components) for n in node[combinator]]
            return set().union(*found) if all(found) else set()
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    return {"object"} if "properties" in node else set()


def _field(types: set[str]) -> dict[str, Any]:
    if not types:
        return {}
    return {"type": ["null", *sorted(types)]}


def _stream_schema(component: str, added: dict[str, str]) -> dict[str, Any]:
    types: dict[str, set[str]] = {}
    for version in VERSIONS:
        components = openapi_document(version)["components"]["schemas"]
        for name, node in components[component].get("properties", {}).items():
            types.setdefault(name, set()).update(_json_types(node, components))
    for name, kind in added.items():
        types[name] = {kind}
    return _object({name: _field(t) for name, t in sorted(types.items())})


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


def build() -> dict[str, Any]:
    schemas = {stream: _stream_schema(c, added) for stream, (c, added) in COMPONENTS.items()}
    for stream, keys in MEMBERSHIPS.items():
        schemas[stream] = _object({key: {"type": ["string"]} for key in keys})
    return schemas


def render() -> bytes:
    return orjson.dumps(build(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


if __name__ == "__main__":
    OUTPUT.write_bytes(render())
    print(f"wrote {OUTPUT}")
