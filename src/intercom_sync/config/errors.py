"""The one error configuration raises."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ConfigError(Exception):
    """A configuration problem, as one line: `<key>: <problem>[ — set <where>]`.

    `source` is a phrase saying where the value came from: "in ./intercom-sync.toml",
    "by environment variable INTERCOM_SYNC_…" or "on the command line".
    """

    def __init__(self, key: str | None, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        text = f"{key}: {problem}" if key else problem
        super().__init__(f"{text} — set {source}" if source else text)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
