"""A test that needs a tool the machine lacks: skip with how to get it — but in CI, fail.

CI (`CI=true`, set by `.ci/run`) installs every tool the suite needs, so a missing one
there is a broken setup, never a reason to pass quietly.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_tool(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
