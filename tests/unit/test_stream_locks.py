"""Stream locks: a holder killed mid-stream must not block the next sync."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from intercom_sync.engine.locks import holder_is_dead, lock_owner


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_owner_names_this_process_and_host() -> None:
    owner = lock_owner("run1")
    assert owner == f"{os.getpid()}@{socket.gethostname()}/run1"
    assert not holder_is_dead(owner)


def test_a_holder_whose_process_is_gone_is_dead() -> None:
    assert holder_is_dead(f"{dead_pid()}@{socket.gethostname()}/r")


def test_a_holder_on_another_host_is_never_presumed_dead() -> None:
    assert not holder_is_dead(f"{dead_pid()}@some-other-host/r")
    assert not holder_is_dead("not-a-pid@host/r")
