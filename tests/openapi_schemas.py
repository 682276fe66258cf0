"""Validators for Intercom's official OpenAPI component schemas.

`schema_validator("2.11", "conversation")` returns a cached jsonschema validator
for `#/components/schemas/conversation` of `shared/intercom-openapi/2.11.yaml`.

The YAML is OpenAPI 3.0, which is not quite JSON Schema. The translation:

* `nullable: true` becomes `anyOf: [{"type": "null"}, <the schema without it>]`,
  which also covers the `$ref` + `nullable` siblings the files use;
* a `$ref` to a component the file does not define (2.11's `conversation`
  points at a missing `custom_attributes`) resolves to `{}` (anything), and
  `missing_components(version)` lists those gaps so tests can see them.

Everything else (`example`, `x-*`, `format`) is left for jsonschema to ignore.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "intercom-openapi"
if not SPEC_DIR.is_dir():  # the checkout may live elsewhere; /work/shared is the canonical copy
    SPEC_DIR = Path("/work/shared/intercom-openapi")

_REF_PREFIX = "#/components/schemas/"


@functools.cache
def openapi_document(version: str) -> dict[str, Any]:
    """The parsed OpenAPI file for an API version ("2.11", "2.14")."""
    path = SPEC_DIR / f"{version}.yaml"
    with path.open("rb") as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 - safe loader
    return document


def _translate(node: Any, known: frozenset[str], missing: set[str]) -> Any:
    if isinstance(node, list):
        return [_translate(item, known, missing) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if (
        isinstance(ref, str)
        and ref.startswith(_REF_PREFIX)
        and ref[len(_REF_PREFIX) :] not in known
    ):
        missing.add(ref[len(_REF_PREFIX) :])
        node = {key: value for key, value in node.items() if key != "$ref"}
    translated = {
        key: _translate(value, known, missing) for key, value in node.items() if key != "nullable"
    }
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, translated]}
    return translated


@functools.cache
def _json_schemas(version: str) -> tuple[dict[str, Any], frozenset[str]]:
    schemas = openapi_document(version)["components"]["schemas"]
    known = frozenset(schemas)
    missing: set[str] = set()
    translated = {name: _translate(schema, known, missing) for name, schema in schemas.items()}
    return translated, frozenset(missing)


def missing_components(version: str) -> frozenset[str]:
    """Components referenced by the file but not defined in it (validated as `{}`)."""
    return _json_schemas(version)[1]


def component_names(version: str) -> frozenset[str]:
    return frozenset(_json_schemas(version)[0])


@functools.cache
def schema_validator(version: str, component: str) -> Draft202012Validator:
    """A cached validator for one component schema of one API version."""
    schemas, _ = _json_schemas(version)
    if component not in schemas:
        raise KeyError(f"{version}.yaml has no component schema {component!r}")
    root = {"$ref": _REF_PREFIX + component, "components": {"schemas": schemas}}
    return Draft202012Validator(root)


def validation_errors(version: str, component: str, instance: Any, limit: int = 5) -> list[str]:
    """Readable messages for the first `limit` violations (empty when valid)."""
    validator = schema_validator(version, component)
    messages = []
    for error in validator.iter_errors(instance):
        where = "/".join(str(part) for part in error.absolute_path) or "<root>"
        messages.append(f"{component} at {where}: {error.message[:300]}")
        if len(messages) >= limit:
            break
    return messages
