"""Server-rendered HTML: the dashboard page shell, every value escaped.

The page carries no data beyond titles and freshness: each widget card fetches its
JSON and draws itself (`static/dashboard.js`). Every string that reaches the HTML
passes through `html.escape`, so names like `<script>` are shown, never run.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from intercom_sync.metrics.definitions import Dashboard, Widget
from intercom_sync.metrics.durations import iso_ms


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


@cache
def _template(name: str) -> Template:
    return Template(files("intercom_sync.web").joinpath("templates", name).read_text("utf-8"))


def render_dashboard(
    dashboard: Dashboard,
    all_dashboards: dict[str, Dashboard],
    overview: dict[str, Any],
    background: dict[str, Any] | None,
    now_ms: int,
) -> str:
    return _template("dashboard.html").substitute(
        title=esc(dashboard.title),
        dashboard_id=esc(dashboard.id),
        as_of_ms=esc(now_ms),
        as_of=esc(iso_ms(now_ms)),
        nav=_nav(dashboard.id, all_dashboards),
        freshness=esc(freshness_line(overview, background, now_ms)),
        widgets="\n".join(_card(w) for w in dashboard.widgets.values()),
    )


def _nav(current: str, dashboards: dict[str, Dashboard]) -> str:
    links = []
    for d in dashboards.values():
        attr = ' aria-current="page"' if d.id == current else ""
        links.append(f'<a href="/dashboards/{esc(d.id)}"{attr}>{esc(d.title)}</a>')
    return " ".join(links)


def _card(widget: Widget) -> str:
    description = f'<p class="desc">{esc(widget.description)}</p>' if widget.description else ""
    return (
        f'<section class="card card-{esc(widget.kind)}" id="w-{esc(widget.id)}" '
        f'data-widget="{esc(widget.id)}" data-kind="{esc(widget.kind)}" data-state="loading">'
        f"<h2>{esc(widget.title)}</h2>"
        f'<div class="body" aria-live="polite">Loading…</div>{description}</section>'
    )


def _ago(iso: str | None, now_ms: int) -> str:
    if not iso:
        return "never"
    then = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    minutes = (now_ms / 1000 - then.timestamp()) / 60
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes:.0f} min ago"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h ago"
    return f"{minutes / 1440:.0f} days ago"


def freshness_line(overview: dict[str, Any], background: dict[str, Any] | None, now_ms: int) -> str:
    """One line: the last sync, its outcome, the stalest stream, and the background schedule."""
    run = overview.get("last_run")
    if run is None:
        text = "No sync recorded in this store yet."
    else:
        finished = run.get("finished_at")
        when = _ago(finished or run.get("started_at"), now_ms)
        verb = "finished" if finished else "started"
        text = f"Last sync {verb} {when} ({run.get('status')})."
    oldest = overview.get("oldest_stream_age_minutes")
    if oldest is not None:
        text += f" Oldest stream sync: {oldest:.0f} min ago."
    if background:
        text += f" Background sync every {background['every_seconds'] / 60:.0f} min"
        text += "; running now." if background.get("running") else "."
        if background.get("last_error"):
            text += " Last background sync failed."
    return text
