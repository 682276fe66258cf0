"""The real `intercom-sync` command, run in a subprocess against a simulator on 127.0.0.1.

Issue 3, Done-when 5–7 and issue 4, Done-when 4: what a user sees when they get something
wrong (one line, the cause and the fix, a distinct exit code, never a traceback), tickets
skipped without their permission, a token that appears nowhere, `check`, `init` and
`demo`.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from intercom_sync.simulator.service import SCOPES, FaultSpec, TokenSpec, WorldSpec
from intercom_sync.streams.catalog import STREAM_NAMES
from tests.e2e.harness import open_test_store
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

pytestmark = pytest.mark.slow

TINY = WorldSpec.preset("tiny", seed=2)
NO_CONVERSATIONS = "tok-without-conversations"
NO_TICKETS = "tok-without-tickets"


@pytest.fixture
def lb() -> Iterator[Loopback]:
    with loopback_simulator(TINY) as served:
        served.sim.add_token(NO_CONVERSATIONS, TokenSpec(scopes=without("read_conversations")))
        served.sim.add_token(NO_TICKETS, TokenSpec(scopes=without("read_tickets")))
        yield served


def without(scope: str) -> frozenset[str]:
    return frozenset(SCOPES) - {scope}


def status_json(tmp_path: Path, db: Path) -> dict[str, dict]:
    shown = run_cli("status", "--json", "--store", f"sqlite:///{db}", env=cli_env(), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    return {s["stream"]: s for s in json.loads(shown.stdout)["streams"]}


def table_rows(stdout: str, first_column: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(rf"^│ {first_column}\s+│", line)]


# -- errors a user can cause (issue 3, Done-when 5) --------------------------------------


def test_a_rejected_token_is_one_line_and_exit_2(lb: Loopback, tmp_path: Path) -> None:
    result = run_cli(
        *sync_args(lb, tmp_path / "s.db"),
        env=cli_env("not-a-token-of-this-workspace"),
        cwd=tmp_path,
    )
    assert_one_error_line(
        result, 2, "Intercom rejected the access token", "INTERCOM_ACCESS_TOKEN", "Developer Hub"
    )


def test_a_missing_permission_fails_that_stream_only_exit_3(lb: Loopback, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = run_cli(*sync_args(lb, db), env=cli_env(NO_CONVERSATIONS), cwd=tmp_path)

    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].startswith("failed: conversations: ")
    assert "'Read conversations' permission" in failed[0]
    assert "Some streams failed; the others finished" in result.stdout
    assert "conversation_parts covers only the conversations this run copied" in result.stdout
    streams = status_json(tmp_path, db)
    assert streams["conversations"]["last_status"] == "failed"
    assert "Read conversations" in streams["conversations"]["error"]
    for name in ("admins", "teams", "contacts", "companies", "tickets", "activity_logs"):
        assert streams[name]["last_status"] == "succeeded", name
    assert streams["contacts"]["rows"] == len(lb.sim.world.contacts)
    assert streams["conversations"]["rows"] == 0


def test_a_bad_config_value_in_the_environment_names_the_key(lb: Loopback, tmp_path: Path) -> None:
    result = run_cli(
        *sync_args(lb, tmp_path / "s.db"), env=cli_env(num_workers="lots"), cwd=tmp_path
    )
    assert_one_error_line(
        result, 2, "intercom.num_workers", "'auto' or a whole number", "'lots'",
        "INTERCOM_SYNC_NUM_WORKERS",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "needles"),
    [
        ("num_workrs = 4", ("intercom.num_workrs", "unknown key", "did you mean 'num_workers'")),
        ("lookback_days = -3", ("intercom.lookback_days", "0 or more", "got -3")),
    ],
)
def test_a_bad_key_or_value_in_the_config_file_names_it(
    lb: Loopback, tmp_path: Path, line: str, needles: tuple[str, ...]
) -> None:
    config = tmp_path / "custom.toml"
    config.write_text(f"[intercom]\n{line}\n", encoding="utf-8")
    result = run_cli(
        *sync_args(lb, tmp_path / "s.db"), "--config", str(config), env=cli_env(), cwd=tmp_path
    )
    assert_one_error_line(result, 2, *needles, str(config))


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_host_ends_with_one_clear_line(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"
    store = ["--store", f"sqlite:///{tmp_path / 's.db'}"]
    for command in (["sync", *store], ["check"]):
        result = run_cli(*command, "--base-url", base_url, env=cli_env(), cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        # The client may log its one retry of the first connection before giving up; the
        # run still ends with exactly one error line, naming the cause and the fix.
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0]
        assert f"could not reach the Intercom API at {base_url}" in errors[0]
        assert "--base-url" in errors[0]


def test_an_unknown_stream_lists_the_valid_ones(lb: Loopback, tmp_path: Path) -> None:
    result = run_cli(
        *sync_args(lb, tmp_path / "s.db"), "--streams", "contcts", env=cli_env(), cwd=tmp_path
    )
    line = assert_one_error_line(result, 2, "unknown stream 'contcts'", "did you mean 'contacts'")
    valid = line.partition("valid streams: ")[2]
    assert valid.split(", ") == list(STREAM_NAMES)


# -- tickets are optional (issue 4, Done-when 4) ------------------------------------------


def test_tickets_without_permission_are_skipped_with_a_warning(
    lb: Loopback, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    result = run_cli(*sync_args(lb, db), env=cli_env(NO_TICKETS), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "tickets skipped" in warnings[0]
    assert "'Read tickets' permission" in warnings[0]
    assert not [line for line in result.stdout.splitlines() if line.startswith("failed: ")]

    table = run_cli("status", "--store", f"sqlite:///{db}", env=cli_env(), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    (row,) = table_rows(table.stdout, "tickets")
    assert "│ skipped" in row
    streams = status_json(tmp_path, db)
    assert streams["tickets"]["last_status"] == "skipped"
    assert "Read tickets" in streams["tickets"]["warning"]
    assert streams["tickets"]["error"] is None
    others = {name: s["last_status"] for name, s in streams.items() if name != "tickets"}
    assert set(others.values()) == {"succeeded"}


# -- check --------------------------------------------------------------------------------


def readable_column(stdout: str) -> dict[str, str]:
    out = {}
    for name in STREAM_NAMES:
        (row,) = table_rows(stdout, name)
        out[name] = row.split("│")[2].strip()
    return out


def test_check_reports_each_stream_and_treats_tickets_as_optional(
    lb: Loopback, tmp_path: Path
) -> None:
    args = ["check", "--base-url", lb.base_url]
    full = run_cli(*args, env=cli_env(), cwd=tmp_path)
    assert full.returncode == 0, full.stdout + full.stderr
    assert "Token accepted" in full.stdout
    assert set(readable_column(full.stdout).values()) == {"yes"}

    no_tickets = run_cli(*args, env=cli_env(NO_TICKETS), cwd=tmp_path)
    assert no_tickets.returncode == 0, no_tickets.stdout + no_tickets.stderr
    readable = readable_column(no_tickets.stdout)
    assert readable.pop("tickets") == "no"
    assert set(readable.values()) == {"yes"}
    assert "skipped on sync" in "".join(table_rows(no_tickets.stdout, "tickets"))

    no_conversations = run_cli(*args, env=cli_env(NO_CONVERSATIONS), cwd=tmp_path)
    assert no_conversations.returncode == 3, no_conversations.stdout + no_conversations.stderr
    readable = readable_column(no_conversations.stdout)
    assert {n for n, r in readable.items() if r == "no"} == {"conversations", "conversation_parts"}


# -- init ---------------------------------------------------------------------------------


def test_init_writes_a_file_sync_accepts_and_refuses_to_overwrite(
    lb: Loopback, tmp_path: Path
) -> None:
    env = cli_env()
    first = run_cli("init", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    config = tmp_path / "intercom-sync.toml"
    starter = config.read_text(encoding="utf-8")
    # Change one value, so the run below proves the file is read, not merely tolerated.
    assert "\nresources = []\n" in starter
    config.write_text(starter.replace("resources = []", 'resources = ["admins", "teams"]'))

    synced = run_cli(
        "sync", "--config", str(config), "--base-url", lb.base_url, env=env, cwd=tmp_path
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    store = open_test_store(tmp_path / "intercom.db")  # the starter's store.url
    try:
        (streams,) = store.query("SELECT streams FROM _sync_runs")[0]
        assert set(json.loads(streams)) == {"admins", "teams"}
        assert store.query("SELECT count(*) FROM admins") == [(len(lb.sim.world.admins),)]
    finally:
        store.close()

    again = run_cli("init", env=env, cwd=tmp_path)
    assert_one_error_line(again, 2, "already exists", "--force")
    assert 'resources = ["admins", "teams"]' in config.read_text(encoding="utf-8")

    forced = run_cli("init", "--force", env=env, cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert config.read_text(encoding="utf-8") == starter
    checked = run_cli(
        "check", "--config", str(config), "--base-url", lb.base_url, env=env, cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- the token appears nowhere (issue 3, Done-when 6) --------------------------------------


def test_the_token_appears_in_no_output_log_store_or_state(lb: Loopback, tmp_path: Path) -> None:
    token = f"tok_LEAKCANARY_{uuid.uuid4().hex}"
    revoked = f"tok_REVOKEDCANARY_{uuid.uuid4().hex}"
    lb.sim.add_token(token, TokenSpec(scopes=without("read_conversations")))
    lb.sim.set_faults(FaultSpec(seed=4, error_500=0.04, error_503=0.02, connection_reset=0.03))
    db = tmp_path / "store.db"
    store_flag = ["--store", f"sqlite:///{db}"]
    env = cli_env(token)

    runs = {
        "sync": run_cli("--debug", *sync_args(lb, db), env=env, cwd=tmp_path),
        "status": run_cli("status", *store_flag, env=env, cwd=tmp_path),
        "status --json": run_cli("status", "--json", *store_flag, env=env, cwd=tmp_path),
        "check": run_cli("--debug", "check", "--base-url", lb.base_url, env=env, cwd=tmp_path),
        "revoked": run_cli("--debug", *sync_args(lb, db), env=cli_env(revoked), cwd=tmp_path),
    }
    # The runs did what makes a leak likely: retries and a permission error were logged.
    assert runs["sync"].returncode == 3
    assert "retrying" in runs["sync"].stderr
    assert "Read conversations" in runs["sync"].stdout
    assert runs["revoked"].returncode == 2

    texts = {
        f"{name} {kind}": getattr(r, kind)
        for name, r in runs.items()
        for kind in ("stdout", "stderr")
    }
    files = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    assert db in files
    store = open_test_store(db)
    try:
        texts["_sync_state"] = repr(store.query("SELECT * FROM _sync_state"))
        texts["_sync_runs"] = repr(store.query("SELECT * FROM _sync_runs"))
        assert texts["_sync_state"] != "[]"
    finally:
        store.close()
    for secret in (token, revoked):
        pieces = [secret, secret[-32:-16], secret[-16:]]  # whole, and distinctive fragments
        for piece in pieces:
            for where, text in texts.items():
                assert piece not in text, f"token found in {where}"
            for path in files:
                assert piece.encode() not in path.read_bytes(), f"token found in {path.name}"


# -- demo (issue 3, Done-when 7) -----------------------------------------------------------


def test_demo_without_serving_ends_with_the_summary_and_the_store_path(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run_cli(
        "demo",
        "--no-serve",
        "--scale",
        "tiny",
        "--store-path",
        str(db),
        env=cli_env(),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"Store: {db.resolve()}" in lines
    assert any(line.startswith("Conversations by state: ") for line in lines)
    assert lines[-1].strip() == f"intercom-sync status --store sqlite:///{db}"
    store = open_test_store(db)
    try:
        wanted = WorldSpec.preset("tiny").conversations
        assert store.query("SELECT count(*) FROM conversations") == [(wanted,)]
    finally:
        store.close()


def test_demo_serves_the_dashboard_on_the_port_it_prints(tmp_path: Path) -> None:
    env = {**cli_env(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cli("demo", "--scale", "tiny", "--port", "0", "--store-path", str(tmp_path / "demo.db")),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = wait_for_dashboard_url(lines_of(proc.stdout), proc)
        response = httpx.get(f"{url}api/dashboards", timeout=30)
        assert response.status_code == 200
        dashboards = response.json()["dashboards"]
        assert [d["id"] for d in dashboards] == ["support"]
        assert dashboards[0]["widgets"]
    finally:
        stop_process(proc)
