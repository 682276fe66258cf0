"""Is a process still there? (Runs and locks left behind by a killed sync.)"""

from __future__ import annotations

import os


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it just is not ours
    return True
