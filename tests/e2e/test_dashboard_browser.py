"""The dashboard in a real browser: headless Chromium (Debian's) driven by playwright.

Syncs a `small` simulated workspace, serves the support dashboard over that store on
127.0.0.1 behind an auth token,
opens it through the `?token=` cookie exchange, and checks that every widget rendered
(a chart, a value or a table; no error state), that the console stayed clean, that
hostile names (a tag `<script>alert(1)</script>`, an admin named like an `<img>` tag)
show as text in HTML and in plotly's labels, and keeps a screenshot.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from intercom_sync.clock import ManualClock
from intercom_sync.metrics.support import support_config
from intercom_sync.metrics.synthetic import XSS_ADMIN, XSS_TAG
from intercom_sync.simulator.service import Simulator
from intercom_sync.simulator.spec import SimulatorConfig, WorldSpec
from intercom_sync.store import Store, open_store
from intercom_sync.web.app import create_app
from tests.e2e.harness import run
from tests.tooling import missing_tool

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "browser-test-dashboard-token"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    message = (
        f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium` "
        "(.ci/run does this in CI); never `playwright install`"
    )
    missing_tool(message)


def populate_store(path: Path) -> tuple[Store, float]:
    """Sync a `small` simulated workspace, with hostile names, into a store.

    A tag is renamed `<script>alert(1)</script>` and applied to recent conversations,
    and an admin is named like an `<img>` tag, before the sync: the dashboard must show
    both as text. Returns the store and the moment to show it as of (the simulator's now).
    """
    sim = Simulator(SimulatorConfig(world=WorldSpec.preset("small", seed=3)))
    world = sim.world
    tag_id = sorted(world.tags)[0]
    world.put("tags", {**world.tags[tag_id], "name": XSS_TAG})
    admin_id = sorted(world.admins)[1]
    world.put("admins", {**world.admins[admin_id], "name": XSS_ADMIN})
    now = int(sim.clock.now())
    recent = [cid for cid, c in world.conversations.items() if c["created_at"] > now - 20 * 86_400]
    for cid in sorted(recent)[:5]:
        sim.mutator.tag_conversation(cid, tag_id)
    sim.clock.advance(600)  # past the search index's lag, so the sync sees the changes
    outcome = run(sim, path)
    assert outcome.status == "succeeded", outcome
    return open_store(f"sqlite:///{path}"), sim.clock.now()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store, now = populate_store(tmp_path_factory.mktemp("browser") / "dashboard.db")
    app = create_app(store, support_config(), clock=ManualClock(now), auth_token=TOKEN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


def _all_settled(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-widget]')]"
        ".every(c => c.dataset.state !== 'loading')",
        timeout=30_000,
    )


def _card_has_content(page: Any, widget_id: str) -> bool:
    card = page.locator(f"#w-{widget_id}")
    found = (
        card.locator(".chart .main-svg").count()
        + card.locator(".stat-value").count()
        + card.locator("table.data tbody tr").count()
    )
    return found > 0


def test_dashboard_renders_every_widget_and_escapes_names(dashboard_url: str) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(f"{dashboard_url}/?token={TOKEN}")
            assert "token=" not in page.url  # the token left the address bar
            _all_settled(page)
            page.wait_for_timeout(300)  # let plotly finish its layout before the picture
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            widget_ids = page.eval_on_selector_all(
                "[data-widget]", "cards => cards.map(c => c.dataset.widget)"
            )
            assert set(widget_ids) == set(support_config().dashboards["support"].widgets)
            states = page.eval_on_selector_all(
                "[data-widget]", "cards => cards.map(c => [c.dataset.widget, c.dataset.state])"
            )
            assert [w for w, s in states if s != "ready"] == []
            assert [w for w in widget_ids if not _card_has_content(page, w)] == []
            assert page.locator(".stat-value", has_text="–").count() == 0

            # Hostile names are text: in an HTML table and in plotly's axis labels.
            assert XSS_TAG in page.locator("#w-tags_table table").inner_text()
            assert XSS_TAG in page.locator("#w-volume_by_tag .ytick text").all_text_contents()
            admin_labels = page.locator("#w-volume_by_admin .ytick text").all_text_contents()
            assert XSS_ADMIN in admin_labels
            assert page.locator("img").count() == 0
            assert page.locator("script").count() == 2  # plotly.min.js and dashboard.js only

            freshness = page.locator("#freshness").inner_text()
            assert "Last sync finished" in freshness
        finally:
            browser.close()
    assert problems == []


def test_dashboard_without_the_token_is_refused(dashboard_url: str) -> None:
    import httpx

    page = httpx.get(f"{dashboard_url}/dashboards/support")
    assert page.status_code == 401
    assert TOKEN not in page.text
    api = httpx.get(f"{dashboard_url}/api/dashboards")
    assert api.status_code == 401
    ok = httpx.get(f"{dashboard_url}/api/dashboards", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
