"""Server-rendered HTML: the dashboard page shell and its controls, every value escaped.

The page carries no data beyond titles, freshness and the controls' choices: each widget
card fetches its JSON (with the page's own query string, so the URL is the view) and draws
itself (`static/dashboard.js`). The controls are a plain GET form: choosing a range,
comparison or filter loads the page with those parameters. Every string that reaches the
HTML passes through `html.escape`, so names like `<script>` are shown, never run.
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
from intercom_sync.metrics.view import COMPARES, RANGE_PRESETS, View

Options = dict[str, list[dict[str, str]]]
_COMPARE_LABELS = {
    "previous": "vs the previous period",
    "year": "vs the same period last year",
    "none": "no comparison",
}
_FILTERS = (
    ("team", "teams", "All teams"),
    ("admin", "admins", "All teammates"),
    ("channel", "channels", "All channels"),
    ("tag", "tags", "All tags"),
)


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
    view: View,
    options: Options,
) -> str:
    return _template("dashboard.html").substitute(
        title=esc(dashboard.title),
        dashboard_id=esc(dashboard.id),
        as_of_ms=esc(view.now_ms),
        as_of=esc(iso_ms(view.now_ms)),
        nav=_nav(dashboard.id, all_dashboards),
        freshness=esc(freshness_line(overview, background, view.now_ms)),
        controls=controls(dashboard, view, options),
        notice="",
        widgets="\n".join(_card(w) for w in dashboard.widgets.values()),
    )


def render_error_page(dashboard: Dashboard, message: str) -> str:
    """The page for a URL whose view cannot be shown: what is wrong, and a way back."""
    notice = (
        f'<p class="notice" role="alert">This view cannot be shown — {esc(message)}. '
        f'<a href="/dashboards/{esc(dashboard.id)}">Show the default view</a>.</p>'
    )
    return _template("dashboard.html").substitute(
        title=esc(dashboard.title),
        dashboard_id=esc(dashboard.id),
        as_of_ms="",
        as_of="",
        nav="",
        freshness="",
        controls="",
        notice=notice,
        widgets="",
    )


def _default_days(dashboard: Dashboard) -> int | None:
    """The window every windowed widget shares, in days (None when they differ)."""
    windows = {m.window_ms for w in dashboard.widgets.values() for _, m in w.metrics if m.window_ms}
    if len(windows) == 1:
        (window,) = windows
        if window % 86_400_000 == 0:
            return window // 86_400_000
    return None


def _option(value: str, label: str, chosen: bool) -> str:
    selected = " selected" if chosen else ""
    return f'<option value="{esc(value)}"{selected}>{esc(label)}</option>'


def _select(name: str, label: str, options: list[str]) -> str:
    return (
        f'<label class="control"><span>{esc(label)}</span>'
        f'<select name="{esc(name)}" data-autosubmit>{"".join(options)}</select></label>'
    )


def _day_input(name: str, label: str, value: int | None, custom: bool) -> str:
    shown = "" if value is None else iso_ms(value)[:10]
    disabled = "" if custom else " disabled"
    return (
        f'<label class="control custom-range"><span>{esc(label)}</span>'
        f'<input type="date" name="{esc(name)}" value="{esc(shown)}"{disabled}></label>'
    )


def controls(dashboard: Dashboard, view: View, options: Options) -> str:
    """The range, comparison and filter controls, showing the current view."""
    custom = view.span is not None and view.preset is None
    default_days = _default_days(dashboard)
    default = f"Last {default_days} days" if default_days else "Each widget's own window"
    ranges = [_option("", default, view.span is None)]
    ranges += [
        _option(key, f"Last {days} days", view.preset == key)
        for key, days in RANGE_PRESETS.items()
        if days != default_days
    ]
    ranges.append(_option("custom", "Custom dates…", custom))
    # The default (previous period) stays out of the URL, like every default.
    compares = [
        _option("" if c == "previous" else c, _COMPARE_LABELS[c], (view.compare or "previous") == c)
        for c in COMPARES
    ]
    parts = [
        _select("range", "Range", ranges),
        _day_input("from", "From", view.span.start_ms if custom and view.span else None, custom),
        _day_input("to", "To", view.span.end_ms - 1 if custom and view.span else None, custom),
        _select("compare", "Compare", compares),
    ]
    active = view.filters.active()
    for key, plural, everyone in _FILTERS:
        choices = [_option("", everyone, key not in active)]
        choices += [
            _option(item["id"], item["name"], active.get(key) == item["id"])
            for item in options.get(plural, [])
        ]
        parts.append(_select(key, {"admin": "Teammate"}.get(key, key.capitalize()), choices))
    hidden = ""
    if view.pinned:  # an as-of view stays one while its range and filters change
        hidden = f'<input type="hidden" name="as_of" value="{esc(iso_ms(view.now_ms))}">'
    return (
        f'<form class="controls" method="get" action="/dashboards/{esc(dashboard.id)}">'
        f"{''.join(parts)}{hidden}"
        '<button type="submit">Apply</button>'
        f'<a class="reset" href="/dashboards/{esc(dashboard.id)}">Reset</a></form>'
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
    """How long before `now_ms` (never negative: a later moment is "after the as-of time")."""
    if not iso:
        return "never"
    then = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    minutes = (now_ms / 1000 - then.timestamp()) / 60
    if minutes < 0:
        return f"at {then.strftime('%Y-%m-%d %H:%M')} UTC, after the as-of time"
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes:.0f} min ago"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h ago"
    return f"{minutes / 1440:.0f} days ago"


def _minutes(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} days"


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
        text += f" Oldest stream sync: {_minutes(oldest)} ago."
    if background:
        text += f" Background sync every {background['every_seconds'] / 60:.0f} min"
        text += "; running now." if background.get("running") else "."
        if background.get("last_error"):
            text += " Last background sync failed."
    return text
