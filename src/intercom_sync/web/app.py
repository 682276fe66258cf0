"""The dashboard server: one HTML page per dashboard and a small JSON API.

    GET /                                       → the first dashboard
    GET /dashboards/{id}?…                      → the page (widgets fetch their own data)
    GET /api/dashboards                         → every dashboard and its widgets
    GET /api/dashboards/{id}/widgets/{widget}?… → one widget's data
    GET /api/filters                            → the teams, teammates, channels and tags
    GET /api/sync/state                         → freshness per stream, last runs, schedule
    GET /static/plotly.min.js                   → plotly.js from the installed `plotly` package

`?…` is a view (`metrics.view`): `range` or `from`/`to`, `compare`, `team`, `admin`,
`channel`, `tag`, `as_of`. The page's controls write them into its URL, and the page passes
its own query string to every widget, so a URL reproduces a view. A bad value is a 400
whose JSON names the parameter; an unknown team, teammate or tag id is a bad value.

Charts are drawn by plotly.js served from the Python package, so the page fetches
nothing from the internet. Store queries run in a worker thread, one at a time (a
store holds one connection), so the event loop keeps serving while a widget computes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import threading
from collections.abc import AsyncIterator, Callable
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intercom_sync.clock import Clock, SystemClock
from intercom_sync.metrics.definitions import Dashboard
from intercom_sync.metrics.freshness import sync_overview
from intercom_sync.metrics.model import Config
from intercom_sync.metrics.options import check_filters, filter_options
from intercom_sync.metrics.view import INBOX_HOSTS, View, ViewError, parse_view
from intercom_sync.metrics.widgets import evaluate_widget
from intercom_sync.store.base import Store
from intercom_sync.web.auth import TokenAuth
from intercom_sync.web.background import BackgroundSync, SyncFn
from intercom_sync.web.render import freshness_line, render_dashboard, render_error_page

logger = logging.getLogger("intercom_sync.web")
T = TypeVar("T")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


@cache
def plotly_js() -> bytes:
    """plotly.js exactly as the installed `plotly` package ships it."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs()).encode("utf-8")


@cache
def plotly_js_gzip() -> bytes:
    """The same, compressed once (3.5 MB would otherwise be compressed on every load)."""
    return gzip.compress(plotly_js(), compresslevel=6, mtime=0)


class DashboardService:
    """What the routes need: dashboards, the clock, and serialized store access."""

    def __init__(self, store: Store, config: Config, clock: Clock, inbox: str) -> None:
        self.store = store
        self.dashboards: dict[str, Dashboard] = config.dashboards
        self.connector = config.connectors[0].name if config.connectors else "intercom"
        self.clock = clock
        self.inbox = inbox
        self._lock = threading.Lock()
        self.background: BackgroundSync | None = None

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        def locked() -> T:
            with self._lock:
                return fn(*args)

        return await anyio.to_thread.run_sync(locked)

    async def view(self, request: Request) -> View:
        """The request's view; raises `ViewError` for a bad or unknown value."""
        view = parse_view(request.query_params, self.now_ms(), self.inbox)
        await self.run(check_filters, self.store, self.connector, view.filters)
        return view

    async def widget(self, dashboard_id: str, widget_id: str, view: View) -> dict[str, Any]:
        widget = self.dashboards[dashboard_id].widgets[widget_id]
        return await self.run(evaluate_widget, self.store, widget, view)

    async def overview(self) -> dict[str, Any]:
        now_ms = self.now_ms()
        state = await self.run(sync_overview, self.store, now_ms)
        bg = self.background.status.as_json() if self.background else None
        summary = freshness_line(state, bg, now_ms)
        return state | {"background": bg or {"enabled": False}, "summary": summary}


# -- routes ----------------------------------------------------------------------------------


def _service(request: Request) -> DashboardService:
    service: DashboardService = request.app.state.service
    return service


async def home(request: Request) -> Response:
    dashboards = _service(request).dashboards
    if not dashboards:
        return HTMLResponse("<p>No dashboards are configured.</p>", status_code=404)
    return RedirectResponse(f"/dashboards/{next(iter(dashboards))}", status_code=307)


async def dashboard_page(request: Request) -> Response:
    service = _service(request)
    dashboard = service.dashboards.get(request.path_params["dashboard"])
    if dashboard is None:
        return HTMLResponse("<p>No such dashboard.</p>", status_code=404)
    try:
        view = await service.view(request)
    except ViewError as exc:
        page = render_error_page(dashboard, str(exc))
        return HTMLResponse(page, status_code=400, headers={"cache-control": "no-store"})
    overview = await service.overview()
    options = await service.run(filter_options, service.store, service.connector)
    background = overview["background"] if overview["background"]["enabled"] else None
    page = render_dashboard(dashboard, service.dashboards, overview, background, view, options)
    return HTMLResponse(page, headers={"cache-control": "no-store"})


def _dashboard_json(d: Dashboard) -> dict[str, Any]:
    widgets = [
        {
            "id": w.id,
            "title": w.title,
            "kind": w.kind,
            "url": f"/api/dashboards/{d.id}/widgets/{w.id}",
        }
        for w in d.widgets.values()
    ]
    return {"id": d.id, "title": d.title, "widgets": widgets}


async def api_dashboards(request: Request) -> Response:
    dashboards = _service(request).dashboards.values()
    return JSONResponse({"dashboards": [_dashboard_json(d) for d in dashboards]})


async def api_dashboard(request: Request) -> Response:
    dashboard = _service(request).dashboards.get(request.path_params["dashboard"])
    if dashboard is None:
        return JSONResponse({"error": "no such dashboard"}, status_code=404)
    return JSONResponse(_dashboard_json(dashboard))


async def api_widget(request: Request) -> Response:
    service = _service(request)
    dashboard_id, widget_id = request.path_params["dashboard"], request.path_params["widget"]
    dashboard = service.dashboards.get(dashboard_id)
    if dashboard is None or widget_id not in dashboard.widgets:
        return JSONResponse({"error": "no such dashboard or widget"}, status_code=404)
    try:
        view = await service.view(request)
    except ViewError as exc:
        return JSONResponse({"error": str(exc), "parameter": exc.parameter}, status_code=400)
    try:
        body = await service.widget(dashboard_id, widget_id, view)
    except Exception as exc:  # one broken widget must not take the page down
        logger.exception("widget %s/%s failed", dashboard_id, widget_id)
        return JSONResponse({"error": plain_error(exc)}, status_code=500)
    return JSONResponse(body, headers={"cache-control": "no-store"})


def plain_error(exc: Exception) -> str:
    """What went wrong, in words, and what to do about it (details stay in the log)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "The store is busy: a sync is writing to it. Try again in a moment."
    if "no such table" in text or "does not exist" in text:
        return (
            "The store has no table this widget reads: run `intercom-sync sync` to build it, "
            "then try again."
        )
    if "unable to open" in text or "disk i/o" in text or "readonly" in text:
        return "The store could not be read: check that its file is there and readable."
    return (
        f"This widget could not be computed ({type(exc).__name__}). Try again; if it keeps "
        "failing, the server's log (run it with --debug) says why."
    )


async def api_filters(request: Request) -> Response:
    service = _service(request)
    options = await service.run(filter_options, service.store, service.connector)
    return JSONResponse(options, headers={"cache-control": "no-store"})


async def api_sync_state(request: Request) -> Response:
    return JSONResponse(await _service(request).overview(), headers={"cache-control": "no-store"})


async def plotly_asset(request: Request) -> Response:
    headers = {"cache-control": "public, max-age=86400", "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        body = plotly_js_gzip()
    else:
        body = plotly_js()
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


# -- middleware ------------------------------------------------------------------------------


class SecurityHeaders:
    """Adds CSP and friends to every response; logs method, path (never the query) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
                logger.info("%s %s %s", scope["method"], scope["path"], message["status"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- app -------------------------------------------------------------------------------------


def create_app(
    store: Store,
    config: Config,
    *,
    clock: Clock | None = None,
    auth_token: str | None = None,
    sync_fn: SyncFn | None = None,
    sync_every: float | None = None,
    inbox: str = INBOX_HOSTS["us"],
) -> Starlette:
    """The ASGI app over `store` showing `config`'s dashboards.

    `clock` sets "now" for every window (tests pin it); `auth_token` requires a bearer
    token or the session cookie; `sync_fn` is awaited at start-up and then every
    `sync_every` seconds while the app runs; `inbox` is the Intercom web app that
    conversations link to (the workspace's region).
    """
    service = DashboardService(store, config, clock or SystemClock(), inbox)
    if sync_fn is not None and sync_every is not None:
        service.background = BackgroundSync(sync_fn, sync_every, service.clock)
    middleware = [Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=2048)]
    if auth_token is not None:
        TokenAuth.check(auth_token)
        middleware.insert(1, Middleware(TokenAuth, token=auth_token))
    app = Starlette(routes=_routes(), middleware=middleware, lifespan=_lifespan(service.background))
    app.state.service = service
    return app


def _routes() -> list[Route | Mount]:
    static = StaticFiles(directory=str(files("intercom_sync.web").joinpath("static")))
    return [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/dashboards/{dashboard}", dashboard_page),
        Route("/api/dashboards", api_dashboards),
        Route("/api/dashboards/{dashboard}", api_dashboard),
        Route("/api/dashboards/{dashboard}/widgets/{widget}", api_widget),
        Route("/api/filters", api_filters),
        Route("/api/sync/state", api_sync_state),
        Route("/static/plotly.min.js", plotly_asset),
        Mount("/static", static, name="static"),
    ]


def _lifespan(
    background: BackgroundSync | None,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(background.run_forever()) if background else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan
