"""The dashboard in a real browser: headless Chromium (Debian's) driven by playwright.

Syncs a `small` simulated workspace, serves the support dashboard over that store on
127.0.0.1 behind an auth token, and opens it through the `?token=` cookie exchange:

* every widget renders (a chart, a value or a table; no error state), the console stays
  clean, and hostile names (a tag `<script>alert(1)</script>`, an admin named like an
  `<img>` tag) show as text in HTML and in plotly's labels;
* picking a range and a team in the page's controls changes every widget's figures, and
  what each card draws equals the JSON API's answer for the same parameters; the URL it
  ends on reproduces the view in a new page;
* full-page screenshots at 1400 px and 390 px go to `test-artifacts/` (git-ignored), and
  at 390 px nothing is wider than the screen.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from intercom_sync.clock import ManualClock
from intercom_sync.metrics.support import support_config
from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store import Store, open_store
from intercom_sync.web.app import create_app
from tests.e2e.harness import run
from tests.synthetic import XSS_ADMIN, XSS_TAG
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

            # Hostile names are text: in HTML tables and options, and in plotly's labels.
            assert XSS_TAG in page.locator("#w-tags_table table").inner_text()
            assert XSS_TAG in page.locator("select[name=tag]").inner_text()
            assert XSS_TAG in page.locator("#w-volume_by_tag .ytick text").all_text_contents()
            admin_labels = page.locator("#w-volume_by_admin .ytick text").all_text_contents()
            assert XSS_ADMIN in admin_labels
            assert page.locator("img").count() == 0
            assert page.locator("script").count() == 2  # plotly.min.js and dashboard.js only
            assert page.locator("#w-teammates table").inner_text().count(XSS_ADMIN) == 1

            freshness = page.locator("#freshness").inner_text()
            assert "Last sync finished" in freshness

            # Readable: durations in human units, the exact value on hover; axis titles
            # with units; deltas coloured by whether up is good; partial buckets said so.
            median = page.locator("#w-time_to_first_response .stat-value").first
            assert re.fullmatch(r"−?[\d.,]+ (s|min|h|d)", median.inner_text())
            assert median.get_attribute("title").endswith(" minutes")
            titles = page.locator("#w-response_time_trend .ytitle").all_text_contents()
            assert titles and re.search(r"\((minutes|hours|days)\)$", titles[0])
            assert page.locator(".stat-change.good, .stat-change.bad").count() > 0
            assert "Dotted:" in page.locator("#w-new_conversations").inner_text()
        finally:
            browser.close()
    assert problems == []


# Reads what each card shows: its stat values, its table cells, or the figures plotly holds
# (a series and its dotted partial part merged back, in the data's own unit).
FIGURES_JS = """() => {
  const out = {};
  for (const card of document.querySelectorAll('[data-widget]')) {
    const id = card.dataset.widget, kind = card.dataset.kind, body = card.querySelector('.body');
    if (kind === 'stat') {
      out[id] = [...body.querySelectorAll('.stat-value')].map((e) => e.dataset.value);
    } else if (kind === 'table') {
      out[id] = [...body.querySelectorAll('tbody tr')].map(
        (tr) => [...tr.children].map((td) => td.dataset.value));
    } else {
      const gd = body.querySelector('.js-plotly-plot');
      if (!gd) { out[id] = null; continue; }
      if (kind === 'distribution') {
        out[id] = {labels: [...gd.data[0].y].reverse(), values: [...gd.data[0].x].reverse()};
      } else {
        const scale = Number(gd.dataset.scale || 1), groups = {};
        for (const t of gd.data) (groups[t.legendgroup] = groups[t.legendgroup] || []).push(t);
        out[id] = {x: gd.data[0].x, series: Object.values(groups).map((traces) =>
          traces[0].y.map((v, i) => {
            const y = v !== null ? v : traces[1] ? traces[1].y[i] : null;
            return y === null || y === undefined ? null : y / scale;
          }))};
      }
    }
  }
  return out;
}"""


def api_figures(base: str, query: str) -> dict[str, Any]:
    """What the JSON API answers for every widget, in the shape FIGURES_JS reads."""
    auth = {"authorization": f"Bearer {TOKEN}"}
    listing = httpx.get(f"{base}/api/dashboards", headers=auth).json()["dashboards"][0]
    out: dict[str, Any] = {}
    for item in listing["widgets"]:
        body = httpx.get(f"{base}{item['url']}{query}", headers=auth).json()
        kind = body["kind"]
        if kind == "stat":
            out[item["id"]] = [v["value"] for v in body["values"]]
        elif kind == "table":
            out[item["id"]] = body["rows"]
        elif kind == "distribution":
            items = body["items"]
            shown = {"labels": [i["label"] for i in items], "values": [i["value"] for i in items]}
            out[item["id"]] = shown if items else None
        else:
            drawn = body["x"] and not body.get("empty")  # an empty one says why instead
            out[item["id"]] = (
                {"x": body["x"], "series": [s["y"] for s in body["series"]]} if drawn else None
            )
    return out


def same(drawn: Any, answered: Any) -> bool:
    """The page's figure (text from the DOM, numbers from plotly) equals the API's."""
    if isinstance(answered, dict) and isinstance(drawn, dict):
        return drawn.keys() == answered.keys() and all(same(drawn[k], answered[k]) for k in drawn)
    if isinstance(answered, list) and isinstance(drawn, list):
        return len(drawn) == len(answered) and all(
            same(d, a) for d, a in zip(drawn, answered, strict=True)
        )
    if answered is None:
        return drawn in (None, "")
    if isinstance(answered, bool):
        return str(drawn).lower() == str(answered).lower()
    if isinstance(answered, int | float):
        try:
            return float(drawn) == pytest.approx(float(answered), rel=1e-9, abs=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(answered, str) and isinstance(drawn, str) and "T" in answered:
        return drawn.startswith(answered.rstrip("Z")) or drawn == answered
    return html.unescape(str(drawn)) == str(answered)


def _open(context: Any, url: str, width: int, problems: list[str]) -> Any:
    """A new page (tab) of the browser context, which holds the session cookie."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 1000})
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url)
    _all_settled(page)
    return page


def _choose(page: Any, select: str, value: str) -> None:
    """Pick an option; the page reloads with the choice in its URL."""
    with page.expect_navigation():
        page.select_option(select, value)
    _all_settled(page)


def test_choosing_a_range_and_a_team_changes_every_widget_like_the_api(
    dashboard_url: str,
) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    auth = {"authorization": f"Bearer {TOKEN}"}
    volume = httpx.get(
        f"{dashboard_url}/api/dashboards/support/widgets/volume_by_team?range=7d", headers=auth
    ).json()
    team = next(i["key"] for i in volume["items"] if i["key"] is not None)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = _open(context, f"{dashboard_url}/?token={TOKEN}", 1400, problems)
            before = page.evaluate(FIGURES_JS)
            default = api_figures(dashboard_url, "")
            assert [w for w in default if not same(before[w], default[w])] == []

            _choose(page, "select[name=range]", "7d")
            _choose(page, "select[name=team]", team)
            query = urlsplit(page.url).query
            assert parse_qs(query) == {"range": ["7d"], "team": [team]}
            after = page.evaluate(FIGURES_JS)
            answered = api_figures(dashboard_url, f"?{query}")
            assert [w for w in answered if not same(after[w], answered[w])] == []
            store_wide = {"stream_freshness"}
            unchanged = [w for w in answered if w not in store_wide and after[w] == before[w]]
            assert unchanged == []
            assert "Not filtered by team" in page.locator("#w-stream_freshness").inner_text()

            again = _open(context, page.url, 1400, problems)
            assert again.evaluate(FIGURES_JS) == after
            assert again.locator("select[name=team]").input_value() == team

            ARTIFACTS.mkdir(exist_ok=True)
            for width in (1400, 390):
                shot = _open(context, page.url, width, problems)
                shot.wait_for_timeout(300)  # let plotly finish its layout before the picture
                shot.screenshot(path=str(ARTIFACTS / f"dashboard-{width}.png"), full_page=True)
                assert shot.evaluate("document.documentElement.scrollWidth") <= width
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
