"""The dashboard server in-process: pages, JSON API, assets, auth, escaping, background sync."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from intercom_sync.clock import ManualClock, OffsetClock
from intercom_sync.metrics import define_config, define_dashboard, define_metric, support_config
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store import Store, open_store
from intercom_sync.web.app import create_app, plotly_js
from intercom_sync.web.auth import COOKIE, session_value
from intercom_sync.web.background import BackgroundSync
from tests.synthetic import SyntheticSpec, write_synthetic

SPEC = SyntheticSpec(seed=3, conversations=200, contacts=40, admins=6, teams=3, tags=5)
NOW_S = SPEC.now_ms / 1000
TOKEN = "dashboard-token-7f3a"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "web.db"
    store = open_store(f"sqlite:///{path}")
    write_synthetic(store, SPEC)
    store.close()
    return path


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{store_path}")
    yield opened
    opened.close()


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dash")


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(create_app(store, support_config(), clock=ManualClock(NOW_S))) as c:
        yield c


@pytest.fixture
async def locked(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, support_config(), clock=ManualClock(NOW_S), auth_token=TOKEN)
    async with _client(app) as c:
        yield c


# -- pages and API -----------------------------------------------------------------------------


async def test_home_redirects_to_the_first_dashboard(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/dashboards/support"


async def test_every_listed_widget_answers_with_its_data(
    client: httpx.AsyncClient, store: Store
) -> None:
    listing = (await client.get("/api/dashboards")).json()["dashboards"]
    assert [d["id"] for d in listing] == ["support"]
    widgets = listing[0]["widgets"]
    support = support_config().dashboards["support"]
    assert [w["id"] for w in widgets] == list(support.widgets)
    for item in widgets:
        response = await client.get(item["url"])
        assert response.status_code == 200, item["id"]
        body = response.json()
        assert body["kind"] == item["kind"]
        expected = evaluate_widget(store, support.widgets[item["id"]], SPEC.now_ms)
        assert body == expected


async def test_unknown_dashboards_and_widgets_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/dashboards/nope")).status_code == 404
    assert (await client.get("/api/dashboards/support/widgets/nope")).status_code == 404
    assert (await client.get("/api/dashboards/nope/widgets/open_conversations")).status_code == 404
    assert (await client.get("/dashboards/nope")).status_code == 404


async def test_the_page_has_a_card_per_widget_and_only_local_assets(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/dashboards/support")
    assert page.status_code == 200
    html = page.text
    for widget_id in support_config().dashboards["support"].widgets:
        assert f'data-widget="{widget_id}"' in html
    assert '<script src="/static/plotly.min.js"' in html
    assert "http://" not in html and "https://" not in html
    script = (await client.get("/static/dashboard.js")).text
    assert "http://" not in script and "https://" not in script
    assert "Last sync finished 5 min ago (succeeded)" in html


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("range=2w", "range"),
        ("range=7d&from=2025-12-01", "range"),
        ("from=last-tuesday", "from"),
        ("to=2025-12-20", "from"),  # to needs a from
        ("from=2025-12-20&to=2025-12-10", "from"),
        ("from=2026-02-01", "from"),  # after the as-of time
        ("compare=sideways", "compare"),
        ("team=t99", "team"),
        ("admin=nobody", "admin"),
        ("tag=g99", "tag"),
        ("team=%3Cscript%3E", "team"),
        ("channel=carrier_pigeon", "channel"),
        ("as_of=2030-01-01T00:00:00Z", "as_of"),
    ],
)
async def test_a_bad_view_is_a_400_naming_the_parameter(
    client: httpx.AsyncClient, query: str, parameter: str
) -> None:
    response = await client.get(f"/api/dashboards/support/widgets/new_conversations?{query}")
    assert response.status_code == 400, query
    body = response.json()
    assert body["parameter"] == parameter
    assert body["error"].startswith(f"{parameter}: ")
    page = await client.get(f"/dashboards/support?{query}")
    assert page.status_code == 400
    assert "This view cannot be shown" in page.text and "<script>" not in page.text


async def test_the_view_reaches_every_widget(client: httpx.AsyncClient, store: Store) -> None:
    query = "from=2025-12-10&to=2025-12-20&team=t1&compare=year"
    listing = (await client.get("/api/dashboards")).json()["dashboards"][0]["widgets"]
    for item in listing:
        response = await client.get(f"{item['url']}?{query}")
        assert response.status_code == 200, item["id"]
        body = response.json()
        assert body["view"]["filters"] == {"team": "t1"}
        assert (body["view"]["from"], body["view"]["to"]) == (
            "2025-12-10T00:00:00Z",
            "2025-12-21T00:00:00Z",  # a date `to` includes that day
        )
        if item["id"] == "stream_freshness":
            assert body["not_filtered_by"] == ["team"]
        else:
            assert body["not_filtered_by"] == [], item["id"]
    total = (
        await client.get(f"/api/dashboards/support/widgets/new_conversations_total?{query}")
    ).json()
    rows = store.query(
        "SELECT json_extract(attributes, '$.createdAt') FROM entities WHERE entity_type = "
        "'intercom_conversation' AND json_extract(attributes, '$.teamAssigneeId') = 't1'"
    )
    start, end = 1_765_324_800_000, 1_766_275_200_000  # 2025-12-10, 2025-12-21
    assert total["values"][0]["value"] == sum(start <= c < end for (c,) in rows)
    assert total["values"][0]["previous_window"] == {
        "start": "2024-12-10T00:00:00Z",
        "end": "2024-12-21T00:00:00Z",
    }


async def test_filter_options_and_the_controls_show_the_view(client: httpx.AsyncClient) -> None:
    options = (await client.get("/api/filters")).json()
    assert [t["id"] for t in options["teams"]] == ["t0", "t1", "t2"]
    assert {a["id"] for a in options["admins"]} == {f"a{i}" for i in range(6)}
    assert HOSTILE in {t["name"] for t in options["tags"]}
    assert {c["id"] for c in options["channels"]} <= {
        "conversation",
        "email",
        "chat",
        "facebook",
        "twitter",
        "phone_call",
    }
    page = (await client.get("/dashboards/support?range=7d&team=t1&compare=none")).text
    assert '<option value="7d" selected>' in page
    assert '<option value="t1" selected>Team 1</option>' in page
    assert '<option value="none" selected>' in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    custom = (
        await client.get("/dashboards/support?range=custom&from=2025-12-01&to=2025-12-07")
    ).text
    assert '<option value="custom" selected>' in custom
    assert 'name="from" value="2025-12-01">' in custom and 'name="to" value="2025-12-07">' in custom


async def test_plotly_is_served_from_the_installed_package(client: httpx.AsyncClient) -> None:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    response = await client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == get_plotlyjs().encode() == plotly_js()
    assert response.headers["content-encoding"] == "gzip"  # compressed once, not per request
    plain = await client.get("/static/plotly.min.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == plotly_js()


async def test_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboards/support")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_sync_state(client: httpx.AsyncClient) -> None:
    state = (await client.get("/api/sync/state")).json()
    assert state["last_run"]["status"] == "succeeded"
    assert {s["stream"] for s in state["streams"]} >= {"contacts", "conversations"}
    assert state["background"] == {"enabled": False}
    assert state["summary"].startswith("Last sync finished 5 min ago")


async def test_titles_and_names_are_escaped_in_html(store: Store) -> None:
    connector = {"name": "intercom", "connectorId": "intercom"}
    config = define_config(
        connectors=[connector],
        dashboards={
            "evil": define_dashboard(
                title=HOSTILE,
                widgets={
                    "w": {
                        "kind": "stat",
                        "title": '"><img src=x onerror=alert(2)>',
                        "description": "<b>bold</b> & more",
                        "metric": define_metric(connector=connector, entity_type="intercom_tag"),
                    }
                },
            )
        },
    )
    async with _client(create_app(store, config, clock=ManualClock(NOW_S))) as c:
        html = (await c.get("/dashboards/evil")).text
    assert HOSTILE not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html


async def test_a_failing_widget_is_a_500_with_a_short_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    broken = open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE metrics")
    try:
        app = create_app(broken, support_config(), clock=ManualClock(NOW_S))
        async with _client(app) as c:
            bad = await c.get("/api/dashboards/support/widgets/time_to_first_response")
            good = await c.get("/api/dashboards/support/widgets/conversation_states")
            page = await c.get("/dashboards/support")
    finally:
        broken.close()
    assert bad.status_code == 500
    # plain words and what to do; the exception's details stay in the server's log
    assert bad.json() == {
        "error": "The store has no table this widget reads: run `intercom-sync sync` to build "
        "it, then try again."
    }
    assert good.status_code == 200 and page.status_code == 200


# -- auth --------------------------------------------------------------------------------------


async def test_without_credentials_everything_but_health_is_refused(
    locked: httpx.AsyncClient,
) -> None:
    for path in (
        "/",
        "/dashboards/support",
        "/api/dashboards",
        "/api/sync/state",
        "/static/dashboard.js",
    ):
        response = await locked.get(path)
        assert response.status_code == 401, path
        assert TOKEN not in response.text
    assert (await locked.get("/healthz")).status_code == 200


async def test_bearer_token(locked: httpx.AsyncClient) -> None:
    ok = await locked.get("/api/dashboards", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN):
        response = await locked.get("/api/dashboards", headers={"authorization": wrong})
        assert response.status_code == 401, wrong


async def test_token_in_the_url_becomes_a_cookie_and_leaves_the_url(
    locked: httpx.AsyncClient,
) -> None:
    response = await locked.get(f"/dashboards/support?token={TOKEN}&tab=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboards/support?tab=2"
    cookie = response.cookies[COOKIE]
    assert cookie == session_value(TOKEN) and TOKEN not in cookie
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    page = await locked.get("/dashboards/support", headers={"cookie": f"{COOKIE}={cookie}"})
    assert page.status_code == 200
    forged = await locked.get("/dashboards/support", headers={"cookie": f"{COOKIE}={TOKEN}"})
    assert forged.status_code == 401


async def test_a_wrong_token_in_the_url_sets_nothing(locked: httpx.AsyncClient) -> None:
    response = await locked.get("/dashboards/support?token=guess")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


async def test_the_token_is_never_logged(
    locked: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await locked.get(f"/dashboards/support?token={TOKEN}")
    await locked.get("/api/dashboards", headers={"authorization": f"Bearer {TOKEN}"})
    await locked.get("/api/dashboards?token=wrong-guess")
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert server_side, "requests are logged"
    logged = "\n".join(r.getMessage() for r in server_side)
    assert TOKEN not in logged and "wrong-guess" not in logged


def test_an_empty_token_is_refused_rather_than_ignored(store: Store) -> None:
    with pytest.raises(ValueError, match="empty"):
        create_app(store, support_config(), auth_token="")


# -- background sync ---------------------------------------------------------------------------


async def test_background_sync_records_success_and_failure() -> None:
    clock = ManualClock(NOW_S)
    outcomes: list[Exception | None] = [None, RuntimeError("upstream said no"), None]

    async def sync() -> None:
        clock.advance(30)
        outcome = outcomes.pop(0)
        if outcome:
            raise outcome

    bg = BackgroundSync(sync, 900, clock)
    assert await bg.run_once() is True
    assert await bg.run_once() is False
    status = bg.status.as_json()
    assert status["last_error"] == "RuntimeError: upstream said no"
    assert (status["runs"], status["failures"], status["last_ok"]) == (2, 1, False)
    assert await bg.run_once() is True
    assert bg.status.as_json()["last_ok"] is True
    assert bg.status.last_finished == NOW_S + 90


async def test_background_sync_never_overlaps() -> None:
    release = asyncio.Event()
    calls = 0

    async def slow() -> None:
        nonlocal calls
        calls += 1
        await release.wait()

    bg = BackgroundSync(slow, 60, ManualClock(NOW_S))
    first = asyncio.create_task(bg.run_once())
    await asyncio.sleep(0)
    assert bg.status.running
    assert await bg.run_once() is False
    release.set()
    assert await first is True
    assert calls == 1


async def test_background_sync_repeats_on_the_clock() -> None:
    clock = ManualClock(NOW_S)
    times: list[float] = []

    async def sync() -> None:
        times.append(clock.now())
        if len(times) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await BackgroundSync(sync, 900, clock).run_forever()
    assert times == [NOW_S, NOW_S + 900, NOW_S + 1_800]


async def test_the_app_runs_its_background_sync_and_reports_it(store: Store) -> None:
    calls: list[int] = []

    async def sync() -> None:
        calls.append(1)

    clock = OffsetClock(offset=0.0)  # real time: the next run is an hour away
    app = create_app(store, support_config(), clock=clock, sync_fn=sync, sync_every=3_600)
    async with app.router.lifespan_context(app), _client(app) as c:
        await asyncio.sleep(0)  # let the started task take its first turn
        state = (await c.get("/api/sync/state")).json()
        page = (await c.get("/dashboards/support")).text
    assert calls == [1]
    assert state["background"]["enabled"] and state["background"]["last_ok"]
    assert state["background"]["every_seconds"] == 3_600
    assert state["background"]["next_due"] is not None
    assert "Background sync every 60 min" in page
