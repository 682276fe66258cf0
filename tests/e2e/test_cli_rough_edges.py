"""The rough edges of issue 12 (Build 5, Done-when 3), as a user meets them: the real
`intercom-sync` in a subprocess against a simulator on 127.0.0.1. Each ends in one line
that names the cause and the fix, with an exit code and no traceback.

Permission tests must really fail to write even when the suite runs as root (CI does):
there the CLI runs under `setpriv` without the capabilities that let root ignore file
modes, and each such test first proves, in that same mode, that the file or folder
cannot be written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from intercom_sync.clock import ManualClock
from intercom_sync.commands.sync_cmd import run_sync
from intercom_sync.simulator.api.faults import FaultInjector
from intercom_sync.simulator.service import FaultSpec, Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store import open_store
from intercom_sync.streams.catalog import STREAM_NAMES
from tests.e2e.harness import open_test_store, run, settings_for
from tests.e2e.loopback import (
    Loopback,
    assert_one_error_line,
    cli,
    cli_env,
    lines_of,
    loopback_simulator,
    run_cli,
    stop_process,
    sync_args,
    wait_for_dashboard_url,
)
from tests.tooling import missing_tool

pytestmark = pytest.mark.slow

TINY = WorldSpec.preset("tiny", seed=2)
WHERE = "--store (store.url)"


@pytest.fixture(scope="module")
def lb() -> Iterator[Loopback]:
    with loopback_simulator(TINY) as served:
        yield served


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one sync of a tiny workspace (in-process, fast); copy it to change."""
    db = tmp_path_factory.mktemp("synced") / "synced.db"
    outcome = run(Simulator(SimulatorConfig(world=TINY)), db)
    assert outcome.status == "succeeded"
    return db


def copy_store(synced: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(synced, to)
    assert not Path(f"{synced}-wal").exists()  # closed cleanly: the file is the whole store
    return to


# -- running without root's power over file modes --------------------------------------------


def as_plain_user(command: list[str]) -> list[str]:
    """`command` such that file permissions bind, as root too."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        missing_tool("setpriv not installed: `apt-get install -y util-linux`")
    caps = "-dac_override,-dac_read_search,-fowner"
    return ["setpriv", f"--bounding-set={caps}", "--", *command]


def run_as_plain_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        as_plain_user(cli(*args)),
        env=cli_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def writable_as_plain_user(path: Path) -> bool:
    probe = "import os, sys; sys.exit(0 if os.access(sys.argv[1], os.W_OK) else 1)"
    done = subprocess.run(as_plain_user([sys.executable, "-c", probe, str(path)]), check=False)
    return done.returncode == 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- stores that cannot be used ------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_named_by_every_command(
    lb: Loopback, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("my notes, not a store\n", encoding="utf-8")
    url = f"sqlite:///{notes}"
    commands = {
        "sync": sync_args(lb, notes),
        "status": ["status", "--store", url],
        "query": ["query", "--store", url, "SELECT count(*) FROM admins"],
        "serve": ["serve", "--store", url, "--port", "0"],
    }
    for name, args in commands.items():
        result = run_cli(*args, env=cli_env(), cwd=tmp_path)
        line = assert_one_error_line(result, 2, f"{notes} is not an SQLite database", WHERE)
        assert "move this file away" in line, name
    assert notes.read_text(encoding="utf-8") == "my notes, not a store\n"


def test_a_read_only_store_file_says_so_and_stays_as_it_was(
    lb: Loopback, synced: Path, tmp_path: Path
) -> None:
    db = copy_store(synced, tmp_path / "ro.db")
    db.chmod(0o444)
    assert not writable_as_plain_user(db)
    before = digest(db)

    result = run_as_plain_user(*sync_args(lb, db), cwd=tmp_path)
    assert_one_error_line(result, 2, f"{db} is read-only", f"chmod u+w {db}", WHERE)
    assert result.stdout == ""
    assert digest(db) == before
    # Reading needs no write: status still works on it.
    shown = run_as_plain_user("status", "--json", "--store", f"sqlite:///{db}", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["last_run"]["status"] == "succeeded"


def test_a_store_in_a_read_only_folder_says_which_folder(
    lb: Loopback, synced: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "locked"
    db = copy_store(synced, folder / "kept.db")
    folder.chmod(0o555)
    try:
        assert not writable_as_plain_user(folder)
        before = digest(db)
        existing = run_as_plain_user(*sync_args(lb, db), cwd=tmp_path)
        assert_one_error_line(
            existing, 2, f"cannot write in {folder}", "kept.db-wal", "make the folder writable"
        )
        assert digest(db) == before
        new = run_as_plain_user(*sync_args(lb, folder / "new.db"), cwd=tmp_path)
        assert_one_error_line(
            new, 2, f"cannot create {folder / 'new.db'}", f"no permission to write in {folder}"
        )
        assert sorted(p.name for p in folder.iterdir()) == ["kept.db"]
    finally:
        folder.chmod(0o755)


def test_a_store_path_where_no_file_can_be_made(lb: Loopback, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    under_a_file = run_cli(*sync_args(lb, plain / "s.db"), env=cli_env(), cwd=tmp_path)
    assert_one_error_line(
        under_a_file, 2, f"cannot create {plain / 's.db'}", f"{plain} is a file, not a folder"
    )
    # /proc takes no files, whoever asks (root included).
    in_proc = Path("/proc/intercom-sync-e2e.db")
    result = run_cli(*sync_args(lb, in_proc), env=cli_env(), cwd=tmp_path)
    assert_one_error_line(result, 2, f"cannot create {in_proc}", WHERE)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run_cli(*sync_args(lb, folder), env=cli_env(), cwd=tmp_path)
    assert_one_error_line(result, 2, f"{folder} is a folder, not a store file", WHERE)


# -- query only reads ----------------------------------------------------------------------


def query_json(url: str, sql: str, cwd: Path) -> list[dict[str, object]]:
    result = run_cli("query", sql, "--store", url, "--format", "json", env=cli_env(), cwd=cwd)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        ("ATTACH DATABASE '{dir}/attached.db' AS other", "ATTACH (or VACUUM)"),
        ("VACUUM INTO '{dir}/copy.db'", "ATTACH (or VACUUM)"),
        ("VACUUM", "ATTACH (or VACUUM)"),
        ("DETACH DATABASE main", "DETACH"),
        ("PRAGMA user_version = 7", "PRAGMA user_version = 7 sets a value"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE sets a value"),
        ("DELETE FROM admins", "DELETE from admins"),
        ("UPDATE admins SET name = 'x'", "UPDATE of admins"),
        ("INSERT INTO teams (id, raw, synced_at) VALUES ('t', '{{}}', 0)", "INSERT into teams"),
        ("CREATE TABLE mine (a)", "a statement that changes the schema"),
        ("CREATE TEMP TABLE mine (a)", "a statement that changes the schema"),
        ("DROP TABLE admins", "a statement that changes the schema"),
        ("ALTER TABLE admins ADD COLUMN b", "ALTER TABLE admins"),
    ],
)
def test_query_refuses_what_writes_or_attaches_on_sqlite(
    synced: Path, tmp_path: Path, sql: str, what: str
) -> None:
    before = digest(synced)
    url = f"sqlite:///{synced}"
    result = run_cli("query", sql.format(dir=tmp_path), "--store", url, env=cli_env(), cwd=tmp_path)
    line = assert_one_error_line(result, 2, f"refused: {what}", "is read-only", "sqlite3")
    assert "SELECT" in line  # says what it does run
    assert list(tmp_path.iterdir()) == []  # nothing attached, nothing vacuumed into
    assert digest(synced) == before
    counts = query_json(
        url, "SELECT count(*) AS n FROM admins UNION ALL SELECT count(*) FROM teams", tmp_path
    )
    assert counts == [{"n": TINY.admins}, {"n": TINY.teams}]


def test_query_still_reads_pragmas_that_only_report(synced: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{synced}"
    for sql in ("PRAGMA table_info(admins)", "SELECT name FROM pragma_table_info('admins')"):
        assert "id" in {row["name"] for row in query_json(url, sql, tmp_path)}


def test_query_refuses_writes_on_postgresql_even_smuggled_ones(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    open_store(postgres_url).close()  # the schema, and its one _schema_version row

    def versions() -> int:
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT count(*) FROM _schema_version").fetchone()
            return int(row[0]) if row else -1

    before = versions()
    assert before >= 1
    out = tmp_path / "copied.csv"
    cases = [
        ("DELETE FROM _schema_version", "refused: DELETE does not only read"),
        (
            "SET transaction_read_only = off; DELETE FROM _schema_version; COMMIT",
            "refused: SET does not only read",
        ),
        ("SELECT 1; DELETE FROM _schema_version; COMMIT", "refused: more than one statement"),
        (f"COPY _schema_version TO '{out}'", "refused: COPY does not only read"),
        (
            "WITH gone AS (DELETE FROM _schema_version RETURNING 1) SELECT count(*) FROM gone",
            "read-only transaction",
        ),
        ("CREATE TABLE mine (a int)", "refused: CREATE does not only read"),
    ]
    for sql, needle in cases:
        result = run_cli("query", sql, "--store", postgres_url, env=cli_env(), cwd=tmp_path)
        assert_one_error_line(result, 2, needle, "is read-only", "psql")
    assert versions() == before
    assert not out.exists()
    read = query_json(postgres_url, "SELECT count(*) AS n FROM _schema_version", tmp_path)
    assert read == [{"n": before}]


# -- configuration and help ----------------------------------------------------------------


def test_a_start_date_in_the_future_is_refused(lb: Loopback, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    env = cli_env(start_date="2999-01-01T00:00:00Z")
    by_env = run_cli(*sync_args(lb, db), env=env, cwd=tmp_path)
    assert_one_error_line(
        by_env,
        2,
        "intercom.start_date: is in the future (2999-01-01T00:00:00Z)",
        "a sync would copy nothing",
        "INTERCOM_SYNC_START_DATE",
    )
    config = tmp_path / "future.toml"
    config.write_text('[intercom]\nstart_date = "2999-06-01"\n', encoding="utf-8")
    env.pop("INTERCOM_SYNC_START_DATE")
    in_file = run_cli(*sync_args(lb, db), "--config", str(config), env=env, cwd=tmp_path)
    assert_one_error_line(in_file, 2, "is in the future (2999-06-01T00:00:00Z)", str(config))
    assert not db.exists()


def test_an_unknown_config_section_lists_the_valid_ones(lb: Loopback, tmp_path: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text('[intercomm]\nregion = "eu"\n', encoding="utf-8")
    result = run_cli(
        *sync_args(lb, tmp_path / "s.db"), "--config", str(config), env=cli_env(), cwd=tmp_path
    )
    assert_one_error_line(
        result,
        2,
        "intercomm: unknown section (did you mean 'intercom'?)",
        "valid: [intercom], [store], [dashboards]",
        str(config),
    )


def test_sync_help_lists_the_exit_codes(tmp_path: Path) -> None:
    result = run_cli("sync", "--help", env=cli_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    at = lines.index("Exit codes:")
    codes = {line.split()[0]: line for line in lines[at + 1 : at + 5]}
    assert set(codes) == {"0", "1", "2", "3"}
    assert "every selected stream finished" in codes["0"]
    assert "unreachable host" in codes["1"]
    assert "token was rejected" in codes["2"] and "store is unusable" in codes["2"]
    assert "some streams failed" in codes["3"]


# -- serve and demo ------------------------------------------------------------------------


def wait_for_background_sync(url: str, proc: subprocess.Popen[str]) -> dict[str, object]:
    """The dashboard's view of its background sync once one has run (or the test fails)."""
    for _ in range(1200):  # ≤ 2 minutes of polling
        background = httpx.get(f"{url}api/sync/state", timeout=30).json()["background"]
        if background["runs"] >= 1:
            return dict(background)
        assert proc.poll() is None, "serve exited"
        threading.Event().wait(0.1)
    pytest.fail("no background sync finished")


def test_serve_syncs_in_the_background_from_its_base_url(lb: Loopback, tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    open_store(f"sqlite:///{db}").close()
    args = ["serve", "--store", f"sqlite:///{db}", "--port", "0", "--sync-every", "1h"]
    proc = subprocess.Popen(
        cli(*args, "--base-url", lb.base_url),
        env={**cli_env(), "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = wait_for_dashboard_url(lines_of(proc.stdout), proc)
        background = wait_for_background_sync(url, proc)
        assert background["last_ok"] is True, background["last_error"]
    finally:
        stop_process(proc)
    store = open_test_store(db)
    try:
        assert store.query("SELECT count(*) FROM admins") == [(TINY.admins,)]
        assert store.query("SELECT count(*) FROM conversations") == [(TINY.conversations,)]
    finally:
        store.close()

    alone = run_cli(*args[:5], "--base-url", lb.base_url, env=cli_env(), cwd=tmp_path)
    assert_one_error_line(alone, 2, "--base-url is for the background sync", "--sync-every")
    bad = run_cli(*args, "--base-url", "ftp://example.com", env=cli_env(), cwd=tmp_path)
    assert_one_error_line(bad, 2, "intercom.base_url: must be an http(s) URL")


def test_demo_fails_at_once_when_its_port_is_taken(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "demo", "--scale", "tiny", "--port", str(port), "--store-path", str(db),
            env=cli_env(), cwd=tmp_path,
        )  # fmt: skip
    assert_one_error_line(
        result, 2, f"cannot serve the dashboard on 127.0.0.1:{port}", "free --port", "--no-serve"
    )
    assert result.stdout == ""  # before the simulator, before the sync
    assert not db.exists()


# -- a flaky API, and output that is not a terminal ----------------------------------------


def summary(stdout: str) -> tuple[str, dict[str, dict[str, str]]]:
    """The title line and each stream's `key=value` line of a plain summary."""
    lines = stdout.splitlines()
    (title,) = [line for line in lines if line.startswith("Sync ")]
    streams: dict[str, dict[str, str]] = {}
    for line in lines:
        if line.startswith("stream="):
            # Values with spaces are quoted (`verified="1,849 records, as Intercom counts"`).
            fields = dict(part.split("=", 1) for part in shlex.split(line))
            assert fields["stream"] not in streams, line
            streams[fields["stream"]] = fields
    return title, streams


def test_a_flaky_api_counts_its_retries_instead_of_printing_them(tmp_path: Path) -> None:
    flaky = FaultSpec(seed=11, error_500=0.08, error_503=0.03, connection_reset=0.04)
    with loopback_simulator(TINY, faults=flaky) as served:
        result = run_cli(*sync_args(served, tmp_path / "s.db"), env=cli_env(), cwd=tmp_path)
        me = served.sim.stats.requests["GET /me"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""  # no WARNING per retry
    title, streams = summary(result.stdout)
    total = int(re.search(r"(\d+) retried", title).group(1))  # type: ignore[union-attr]
    per_stream = sum(int(s["retried"]) for s in streams.values())
    assert per_stream > 10
    assert total == per_stream + (me - 1)  # and the preflight's, which is no stream's
    assert {s["status"] for s in streams.values()} == {"succeeded"}


def test_in_a_terminal_the_live_display_and_the_table_count_the_retries(tmp_path: Path) -> None:
    """`sync`'s own code path with a terminal console, on virtual time (retries back off
    on the simulator's clock)."""
    flaky = FaultSpec(seed=5, error_500=0.1, connection_reset=0.05)
    sim = Simulator(SimulatorConfig(world=TINY, faults=flaky))
    shown = io.StringIO()
    console = Console(file=shown, width=200, force_terminal=True, color_system=None)
    settings = settings_for(
        tmp_path / "s.db", resources=["admins", "conversations", "conversation_parts"]
    )
    outcome = run_sync(
        settings, full=False, console=console, transport=sim.transport(), clock=sim.clock
    )
    text = shown.getvalue()
    retried = sum(r.retries for r in outcome.results.values())
    assert retried > 0 and outcome.retries >= retried
    assert f"requests, {retried} retried, " in text  # the live table's title, at the end
    assert f"{outcome.retries} retried" in text  # the summary table's title
    header = next(line for line in text.splitlines() if "┃ stream" in line and "notes" in line)
    assert [c.strip() for c in header.strip("┃").split("┃")] == [
        "stream", "status", "records", "pages", "requests", "retried", "deleted", "notes",
    ]  # fmt: skip
    assert "WARNING" not in text


def first_seed_failing(requests: list[bool]) -> int:
    """A fault seed whose first requests fail (True) or succeed exactly as listed."""
    for seed in range(10_000):
        injector = FaultInjector(FaultSpec(seed=seed, error_500=0.5))
        if [injector.plan().error_status is not None for _ in requests] == requests:
            return seed
    raise AssertionError("no such seed")


def test_a_request_given_up_is_one_warning(tmp_path: Path) -> None:
    # GET /me succeeds; GET /admins fails twice, which is every attempt it gets.
    seed = first_seed_failing([False, True, True])
    with loopback_simulator(TINY, faults=FaultSpec(seed=seed, error_500=0.5)) as served:
        result = run_cli(
            *sync_args(served, tmp_path / "s.db"), "--streams", "admins",
            env=cli_env(max_attempts="2"), cwd=tmp_path,
        )  # fmt: skip
        assert served.sim.stats.requests["GET /admins"] == 2
    assert result.returncode == 1, result.stdout + result.stderr
    (warning,) = result.stderr.strip().splitlines()
    assert "WARNING" in warning and "gave up on GET /admins" in warning
    assert "gave up after 2 attempts" in warning
    assert "failed: admins: " in result.stdout
    _, streams = summary(result.stdout)
    assert streams["admins"]["status"] == "failed"


def test_without_a_terminal_the_summary_is_one_plain_line_per_stream(
    lb: Loopback, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    result = run_cli(*sync_args(lb, db), env={**cli_env(), "COLUMNS": "80"}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"[│┃━─]", result.stdout)  # no table, so nothing to wrap
    title, streams = summary(result.stdout)
    assert title.startswith("Sync ") and ": succeeded — " in title
    assert list(streams) == list(STREAM_NAMES)
    store = open_test_store(db)
    try:
        for name, fields in streams.items():
            assert fields["status"] == "succeeded", name
            assert set(fields) >= {"records", "pages", "requests", "retried", "deleted"}
        for name in ("admins", "contact_attributes", "contacts", "conversations"):
            (count,) = store.query(f"SELECT count(*) FROM {name}")[0]
            assert int(streams[name]["records"]) == count, name
    finally:
        store.close()
    assert streams["contacts"]["mode"] == "full"  # a first run


# -- what a run says it was ------------------------------------------------------------------


def test_a_stores_first_run_is_full_and_later_runs_say_what_they_did(tmp_path: Path) -> None:
    clock = ManualClock(float(TINY.now))
    sim = Simulator(SimulatorConfig(world=TINY), clock=clock)
    db = tmp_path / "s.db"

    def sync_and_tell(**kwargs: Any) -> str:
        clock.advance(3_600)  # an hour between runs
        outcome = run(sim, db, **kwargs)
        store = open_test_store(db)
        try:
            rows = store.query("SELECT mode FROM _sync_runs WHERE run_id = ?", (outcome.run_id,))
        finally:
            store.close()
        return str(rows[0][0])

    # The first run into an empty store, though not asked to be full.
    assert sync_and_tell(streams=["admins", "contacts"]) == "full"
    # Contacts read only what changed; every other stream read everything, for the first time.
    assert sync_and_tell() == "mixed"
    assert sync_and_tell() == "incremental"
    assert sync_and_tell(full=True) == "full"
    shown = run_cli("status", "--json", "--store", f"sqlite:///{db}", env=cli_env(), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["last_run"]["mode"] == "full"
