"""The commented `intercom-sync.toml` that `init` writes: the model's fields, printed.

Each key's comment is its field's description and its value the field's default, so
the file documents every key and reads back to exactly the defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from intercom_sync.config.model import keys, sections

_HEADER = (
    "# intercom-sync configuration.",
    "# Each key can also be set with an environment variable INTERCOM_SYNC_<KEY>",
    "# (e.g. INTERCOM_SYNC_API_VERSION, INTERCOM_SYNC_STORE_URL) or a command-line",
    "# flag; flags win over the environment, which wins over this file.",
)


def starter_toml() -> str:
    """A commented `intercom-sync.toml` with every key at its default."""
    lines = list(_HEADER)
    for section, model in sections().items():
        lines += ["", f"[{section}]"]
        for key in keys(section):
            field = model.model_fields[key]
            lines += [f"# {line}" for line in (field.description or "").splitlines()]
            lines.append(f"{key} = {toml_value(field.default)}")
    return "\n".join(lines) + "\n"


def toml_value(value: object) -> str:
    """`value` as TOML: strings, whole and other numbers, lists, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
