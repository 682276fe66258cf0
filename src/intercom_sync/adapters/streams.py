"""The streams a platform sees: every stream with records of its own, its primary key, and
the field its incremental reads move on (none: each read is a full refresh)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson

from intercom_sync.store.schema import RAW_TABLES
from intercom_sync.streams.catalog import CATALOG, StreamSpec


@dataclass(frozen=True)
class PlatformStream:
    name: str
    primary_key: tuple[str, ...]
    cursor_field: str | None  # None: read whole every time
    description: str


def _cursor_field(spec: StreamSpec) -> str | None:
    """Search and scroll streams, and the parts of changed conversations, move on
    `updated_at`; activity logs on `created_at`; small lists and memberships are read
    whole (a membership has no time of its own)."""
    if spec.kind in ("search", "scroll") or spec.name == "conversation_parts":
        return "updated_at"
    if spec.kind == "activity_logs":
        return "created_at"
    return None


PLATFORM_STREAMS: dict[str, PlatformStream] = {
    spec.name: PlatformStream(
        spec.name,
        RAW_TABLES[spec.name].key_names,
        _cursor_field(spec),
        spec.description,
    )
    for spec in CATALOG
    if spec.has_table
}


def json_schema(stream: str) -> dict[str, Any]:
    """The records' JSON schema: every top-level field Intercom's OpenAPI files give the
    object (in API 2.11 and 2.14), typed as they type it and nullable, nested values left
    open; the key fields required. Other fields are allowed: records are passed on exactly
    as received. (Generated into `record_schemas.json` from the OpenAPI files.)"""
    platform = PLATFORM_STREAMS[stream]
    schema: dict[str, Any] = copy.deepcopy(_record_schemas()[stream])
    for key in platform.primary_key:
        field = schema["properties"].setdefault(key, {"type": ["null", "string"]})
        field["type"] = [t for t in field["type"] if t != "null"]
    schema["required"] = list(platform.primary_key)
    return schema


@functools.cache
def _record_schemas() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("record_schemas.json").read_bytes()
    schemas: dict[str, Any] = orjson.loads(text)
    return schemas
