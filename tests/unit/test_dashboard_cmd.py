"""`serve` and `query` as a user runs them (typer), without leaving anything listening."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from intercom_sync.clock import ManualClock
from intercom_sync.commands import dashboard_cmd as web_cli
from intercom_sync.metrics import support_config
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store import open_store
from intercom_sync.web.server import prepare_server, run_in_thread
from tests.synthetic import SyntheticSpec, write_synthetic

SPEC = SyntheticSpec(seed=9, conversations=120, contacts=20, admins=4, teams=2, tags=4)
AS_OF = "2026-01-01T00:00:00Z"
runner = CliRunner()

app = typer.Typer()
app.command()(web_cli.serve)
app.command()(web_cli.query)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    store = open_store(url)
    write_synthetic(store, SPEC)
    store.close()
    return url


def invoke(*args: str, **kwargs: Any) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False, **kwargs)


# -- query -------------------------------------------------------------------------------------


def test_query_sql_as_json_and_csv(store_url: str) -> None:
    sql = "SELECT entity_type, COUNT(*) AS n FROM entities GROUP BY entity_type ORDER BY 1"
    result = invoke("query", sql, "--store", store_url, "--format", "json")
    assert result.exit_code == 0, result.output
    counts = {row["entity_type"]: row["n"] for row in json.loads(result.output)}
    assert counts["intercom_conversation"] == 120 and counts["intercom_team"] == 2
    as_csv = invoke("query", sql, "--store", store_url, "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0] == ["entity_type", "n"] and ["intercom_conversation", "120"] in rows


def test_query_cannot_write(store_url: str) -> None:
    result = invoke("query", "DELETE FROM entities", "--store", store_url)
    # Refused before it runs (a usage error), naming what it would have done.
    assert result.exit_code == 2
    assert "refused: DELETE from entities" in result.output and "read-only" in result.output
    left = invoke(
        "query", "SELECT COUNT(*) AS n FROM entities", "--store", store_url, "--format", "json"
    )
    assert json.loads(left.output)[0]["n"] > 0


def test_query_a_named_metric(store_url: str) -> None:
    result = invoke(
        "query",
        "--metric",
        "support.volume_by_channel",
        "--store",
        store_url,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    store = open_store(store_url)
    try:
        widget = support_config().dashboards["support"].widgets["volume_by_channel"]
        expected = evaluate_widget(store, widget, SPEC.now_ms)
    finally:
        store.close()
    assert json.loads(result.output) == expected
    table = invoke(
        "query", "-m", "support.conversation_states", "--store", store_url, "--as-of", AS_OF
    )
    assert "open" in table.output and "snoozed" in table.output


def test_query_a_metric_for_a_view(store_url: str) -> None:
    """--view takes the page's URL parameters: the same figures as the JSON API's."""
    args = ["query", "-m", "support.new_conversations_total", "--store", store_url]
    week = invoke(*args, "--as-of", AS_OF, "--view", "range=7d&compare=none", "--format", "json")
    assert week.exit_code == 0, week.output
    body = json.loads(week.output)
    assert body["view"]["range"] == "7d" and "previous" not in body["values"][0]
    store = open_store(store_url)
    try:
        created = [
            c
            for (c,) in store.query(
                "SELECT json_extract(attributes, '$.createdAt') FROM entities "
                "WHERE entity_type = 'intercom_conversation'"
            )
        ]
    finally:
        store.close()
    assert body["values"][0]["value"] == sum(
        SPEC.now_ms - 7 * 86_400_000 <= c < SPEC.now_ms for c in created
    )
    bad = invoke(*args, "--view", "team=t999")
    assert bad.exit_code == 2 and "--view: team: no team with id 't999'" in bad.output
    assert invoke(*args, "--view", "range=2w").exit_code == 2
    assert (
        "--view goes with --metric"
        in invoke("query", "SELECT 1", "--store", store_url, "--view", "range=7d").output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "either SQL or --metric"),
        (["SELECT 1", "--metric", "support.conversation_states"], "either SQL or --metric"),
        (["--metric", "support.nope"], "known: support.conversation_states"),
        (["SELECT 1", "--format", "xml"], "--format"),
        (["--metric", "support.conversation_states", "--as-of", "yesterday-ish"], "not a time"),
    ],
)
def test_query_usage_errors(store_url: str, args: list[str], message: str) -> None:
    result = invoke("query", *args, "--store", store_url)
    assert result.exit_code == 2
    assert message in result.output


def test_query_without_a_store(tmp_path: Path) -> None:
    result = invoke("query", "SELECT 1", "--store", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 1 and "no store at" in result.output
    assert not (tmp_path / "none.db").exists()


# -- configuration -----------------------------------------------------------------------------


def test_store_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """serve/query resolve the store like every command: flag > env > file > default,
    and the file may hold dashboards alongside the sync settings."""
    monkeypatch.delenv("INTERCOM_SYNC_STORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "with-dashboards.toml"
    config.write_text(
        '[store]\nurl = "sqlite:///from-file.db"\n[dashboards.mine.widgets.open]\nkind = "stat"\n'
    )
    assert web_cli.resolve_store_url(None, None) == "sqlite:///intercom.db"
    assert web_cli.resolve_store_url(None, str(config)) == "sqlite:///from-file.db"
    monkeypatch.setenv("INTERCOM_SYNC_STORE_URL", "sqlite:///from-env.db")
    assert web_cli.resolve_store_url(None, str(config)) == "sqlite:///from-env.db"
    assert web_cli.resolve_store_url("sqlite:///flag.db", str(config)) == "sqlite:///flag.db"


def test_dashboards_from_the_config_file(store_url: str, tmp_path: Path) -> None:
    config = tmp_path / "intercom-sync.toml"
    config.write_text(
        f"""
[store]
url = "{store_url}"

[dashboards.mine.widgets.vip]
kind = "stat"
[dashboards.mine.widgets.vip.metric]
entity_type = "intercom_conversation"
filter = [{{ field = "tags", op = "contains", value = "tag-1" }}]
""",
        encoding="utf-8",
    )
    result = invoke("query", "--metric", "mine.vip", "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["values"][0]["value"] > 0
    config.write_text(
        '[dashboards.mine.widgets.vip]\nkind = "pie"\nmetric = {}\n', encoding="utf-8"
    )
    bad = invoke("query", "--metric", "mine.vip", "--config", str(config))
    assert bad.exit_code == 2
    assert "dashboard 'mine', widget 'vip': unknown kind 'pie'" in bad.output


# -- serve -------------------------------------------------------------------------------------


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the blocking loop: record the prepared server instead of running it."""
    servers: list[Any] = []

    def keep(server: Any) -> None:
        servers.append(server)
        server.sock.close()

    monkeypatch.setattr(web_cli, "run_forever", keep)
    return servers


def test_serve_announces_the_url_but_never_the_token(store_url: str, captured: list[Any]) -> None:
    secret = "serve-secret-token-123"
    result = invoke("serve", "--store", store_url, "--port", "0", "--auth-token", secret)
    assert result.exit_code == 0, result.output
    (server,) = captured
    assert server.host == "127.0.0.1" and server.port > 0
    assert f"Dashboard: {server.url}" in result.output
    assert "?token=<your token>" in result.output
    assert secret not in result.output
    store = open_store(store_url)
    try:
        names = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        store.close()
    assert {"ix_m_entities_state_v3", "ix_m_entities_created_v2"} <= names  # serve prepared them


def test_serve_warns_when_exposed_without_a_token(store_url: str, captured: list[Any]) -> None:
    result = invoke("serve", "--store", store_url, "--host", "0.0.0.0", "--port", "0")  # noqa: S104
    assert result.exit_code == 0
    assert "without --auth-token" in result.output


def test_serve_background_sync_runs_the_engine_with_the_same_settings(
    store_url: str, captured: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTERCOM_ACCESS_TOKEN", raising=False)
    refused = invoke("serve", "--store", store_url, "--port", "0", "--sync-every", "15m")
    assert refused.exit_code == 2 and "--sync-every" in refused.output  # no token to sync
    assert "INTERCOM_ACCESS_TOKEN" in refused.output
    made: list[tuple[str | None, str, str | None]] = []

    def background(config: str | None, url: str, base_url: str | None) -> Any:
        made.append((config, url, base_url))

        async def sync() -> None:
            return None

        return sync

    monkeypatch.setattr(web_cli, "background_sync", background)
    result = invoke("serve", "--store", store_url, "--port", "0", "--sync-every", "15m")
    assert result.exit_code == 0, result.output
    assert made == [(None, store_url, None)]
    service = captured[-1].server.config.app.state.service
    assert service.background.status.every_seconds == 900
    bad = invoke("serve", "--store", store_url, "--port", "0", "--sync-every", "soon")
    assert bad.exit_code == 2 and "--sync-every" in bad.output


def test_serve_as_of_latest_anchors_now_to_the_data(store_url: str, captured: list[Any]) -> None:
    result = invoke("serve", "--store", store_url, "--port", "0", "--as-of", "latest")
    assert result.exit_code == 0, result.output
    now = captured[-1].server.config.app.state.service.clock.now()
    assert SPEC.now_ms / 1000 - 86_400 < now <= SPEC.now_ms / 1000 + 60


def test_serve_refuses_an_empty_token(store_url: str, captured: list[Any]) -> None:
    result = invoke("serve", "--store", store_url, "--port", "0", "--auth-token", " ")
    assert result.exit_code == 2 and "empty" in result.output


def test_a_served_dashboard_answers_over_http(store_url: str) -> None:
    store = open_store(store_url)
    server = prepare_server(store, support_config(), port=0, clock=ManualClock(SPEC.now_ms / 1000))
    stop = run_in_thread(server)
    try:
        response = httpx.get(f"{server.url}api/dashboards/support/widgets/conversation_states")
    finally:
        stop()
        store.close()
    assert response.status_code == 200
    assert response.json()["values"][0]["label"] == "open"
    assert sum(v["value"] for v in response.json()["values"]) == SPEC.conversations
