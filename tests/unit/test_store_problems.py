"""Why a store cannot be used, in one line (store/problems.py). The e2e tests meet most
causes for real (tests/e2e/test_cli_rough_edges.py); these are the ones a test machine
cannot produce — a read-only filesystem, a full disk — given as the OS error SQLite or
`mkdir` raised, in a folder where the probes themselves succeed."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from intercom_sync.store import StoreUnavailable, open_store
from intercom_sync.store.problems import postgres_problem, sqlite_problem


def os_error(code: int, where: Path) -> OSError:
    return OSError(code, os.strerror(code), str(where))


def test_a_read_only_filesystem_is_named_for_a_store_and_for_a_new_one(tmp_path: Path) -> None:
    store = tmp_path / "kept.db"
    open_store(f"sqlite:///{store}").close()
    message = str(sqlite_problem(store, os_error(errno.EROFS, store)))
    assert message.startswith(f"{store} is on a read-only filesystem: copy the store")
    new = tmp_path / "sub" / "new.db"
    message = str(sqlite_problem(new, os_error(errno.EROFS, new.parent)))
    assert message.startswith(f"cannot create {new}: {tmp_path} is on a read-only filesystem")
    assert not new.parent.exists()  # the probes leave nothing behind


def test_a_full_disk_says_so(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    message = str(sqlite_problem(store, os_error(errno.ENOSPC, store)))
    assert (
        message == f"no space left on the disk that holds {store}: free some space and run it again"
    )
    assert not store.exists()


def test_a_damaged_store_is_not_taken_for_a_permission_problem(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    open_store(f"sqlite:///{store}").close()
    data = bytearray(store.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the header survives; the schema page does not
    store.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailable, match=rf"^{store} is damaged \(.*\): restore it"):
        open_store(f"sqlite:///{store}")


def test_an_error_about_the_sql_is_not_a_store_problem(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            store.query("SELECT * FROM no_such_table")
    finally:
        store.close()


def test_a_postgresql_problem_never_shows_the_password() -> None:
    class Refused(Exception):
        sqlstate = None

    message = str(
        postgres_problem("postgresql://sync:hunter2@db.example/x", Refused("connection refused"))
    )
    assert message.startswith("cannot use the PostgreSQL store postgresql://sync:***@db.example/x")
    assert "hunter2" not in message
