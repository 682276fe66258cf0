"""Why a store cannot be opened, as one line that names the cause and the fix.

SQLite reports most such failures as "unable to open database file" or "attempt to write
a readonly database", whatever the cause. The cause is found the way the operating system
tells it: by opening the store file (and a scratch file beside it, where SQLite keeps the
`-wal` and `-shm` files) for writing, and reading the error number. A probe that creates a
file removes it again.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from intercom_sync.config import redact_url

_SQLITE_HEADER = b"SQLite format 3\x00"
_WHERE = "--store (store.url)"


class StoreUnavailable(Exception):
    """The store cannot be opened or written. The message is one line: cause, then fix."""


def sqlite_problem(path: Path, error: BaseException, *, writing: bool = True) -> StoreUnavailable:
    """Explain why opening (or first writing, unless not `writing`) the SQLite store at
    `path` failed."""
    message = _shape_problem(path, error) or (_write_problem(path, error) if writing else None)
    if message is None:
        message = f"cannot open the store {path}: {error}; check the path and its permissions"
    return StoreUnavailable(message)


def postgres_problem(url: str, error: BaseException) -> StoreUnavailable:
    """Explain a PostgreSQL store that refused a connection or a write (never the password)."""
    where = redact_url(url)
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if getattr(error, "sqlstate", None) == "25006":  # read_only_sql_transaction
        return StoreUnavailable(
            f"the PostgreSQL store {where} is read-only ({detail}): sync needs a role and a "
            f"server that accept writes (not a standby); fix {_WHERE}"
        )
    return StoreUnavailable(
        f"cannot use the PostgreSQL store {where}: {detail}; check {_WHERE} and that the "
        "server is running and accepts this role"
    )


# -- what the path is ------------------------------------------------------------------------


def _shape_problem(path: Path, error: BaseException) -> str | None:
    """A path that names something other than a store file."""
    if path.is_dir():
        return (
            f"{path} is a folder, not a store file: point {_WHERE} at a file in it, "
            f"e.g. sqlite:///{path / 'intercom.db'}"
        )
    blocker = _file_in_the_way(path)
    if blocker is not None:
        return f"cannot create {path}: {blocker} is a file, not a folder; fix the path in {_WHERE}"
    code = getattr(error, "sqlite_errorname", None)
    if code == "SQLITE_NOTADB" or _not_sqlite(path):
        return (
            f"{path} is not an SQLite database (it lacks SQLite's file header): point {_WHERE} "
            "at your store file, or move this file away to start a new store there"
        )
    if code == "SQLITE_CORRUPT":
        return (
            f"{path} is damaged ({error}): restore it from a backup, or move it away and run "
            "`intercom-sync sync` to build a new store"
        )
    return None


def _file_in_the_way(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _not_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except OSError:
        return False
    return bool(head) and head != _SQLITE_HEADER


# -- whether it can be written ---------------------------------------------------------------


def _write_problem(path: Path, error: BaseException) -> str | None:
    folder = next((p for p in path.parents if p.is_dir()), None)  # where a file would go
    if folder is None:
        return None
    exists = path.exists()
    if exists or folder == path.parent:
        found = _probe_file(path, exists)
        if found is not None:  # a file that cannot be created is the folder's doing
            return _explain_errno(path, path if exists else folder, found, exists=exists)
    found = _probe_folder(folder)
    if found is not None:
        return _explain_errno(path, folder, found, exists=exists)
    if isinstance(error, OSError) and error.errno is not None:
        return _explain_errno(path, folder, error, exists=exists)
    return None


def _probe_file(path: Path, exists: bool) -> OSError | None:
    """Open the store file for writing as SQLite does (creating it when missing)."""
    flags = os.O_RDWR if exists else os.O_RDWR | os.O_CREAT | os.O_EXCL
    try:
        handle = os.open(path, flags, 0o644)
    except OSError as exc:
        return exc
    os.close(handle)
    if not exists:
        path.unlink(missing_ok=True)
    return None


def _probe_folder(folder: Path) -> OSError | None:
    """Create (and at once remove) a file where SQLite keeps the `-wal` and `-shm` files."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc
    return None


def _explain_errno(path: Path, failed: Path, error: OSError, *, exists: bool) -> str:
    reason = error.strerror or str(error)
    if error.errno == errno.EROFS and not exists:
        return (
            f"cannot create {path}: {failed} is on a read-only filesystem; choose a store path "
            f"on a writable disk in {_WHERE}"
        )
    if error.errno == errno.EROFS:
        return (
            f"{path} is on a read-only filesystem: copy the store to a writable disk and "
            f"point {_WHERE} at the copy (or remount the disk read-write)"
        )
    if error.errno == errno.ENOSPC:
        return f"no space left on the disk that holds {path}: free some space and run it again"
    if error.errno not in (errno.EACCES, errno.EPERM):
        return (
            f"cannot create {path}: {reason}; choose a store path on an ordinary disk in {_WHERE}"
        )
    if failed == path:
        return (
            f"{path} is read-only ({reason}), and intercom-sync writes its sync state there: "
            f"make it writable (chmod u+w {path}) or point {_WHERE} at a writable copy"
        )
    if exists:
        return (
            f"cannot write in {failed} ({reason}), where SQLite keeps {path.name}-wal and "
            f"{path.name}-shm beside the store: make the folder writable or move the store"
        )
    return (
        f"cannot create {path}: no permission to write in {failed}; choose a writable folder "
        f"in {_WHERE}"
    )
