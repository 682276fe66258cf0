"""Optional bearer-token protection for the dashboard (`serve --auth-token`).

A client proves it knows the token with `Authorization: Bearer <token>` (API use) or
opens any page once with `?token=<token>`: the server then sets a session cookie and
redirects to the same URL without the token, so it leaves the address bar and history.
The cookie holds an HMAC of the token, never the token itself. Every comparison is
constant-time, and nothing here logs a token or a query string.
"""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "intercom_sync_session"
OPEN_PATHS = frozenset({"/healthz"})


def session_value(token: str) -> str:
    """What the cookie holds: derived from the token, useless for the API's bearer header."""
    return hmac.new(token.encode(), b"intercom-sync dashboard session", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenAuth:
    """ASGI middleware: lets a request through only with the right token or cookie."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.check(token)
        self.app = app
        self._token = token
        self._session = session_value(token)

    @staticmethod
    def check(token: str) -> None:
        if not token.strip():
            raise ValueError("an empty auth token would protect nothing")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        offered = [v for k, v in query if k == "token"]
        if offered:
            response = self._exchange(scope, offered[0], query)
        elif self._authorised(scope):
            await self.app(scope, receive, send)
            return
        else:
            response = _refuse(scope)
        await response(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() == "bearer" and _same(credential.strip(), self._token):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # a malformed cookie header is just "no cookie"
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and _same(morsel.value, self._session)

    def _exchange(self, scope: Scope, offered: str, query: list[tuple[str, str]]) -> Response:
        """`?token=` → cookie + redirect to the same URL without the token."""
        if not _same(offered, self._token):
            return _refuse(scope)
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        target = scope["path"] + (f"?{rest}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, self._session, httponly=True, samesite="strict", path="/", max_age=30 * 86_400
        )
        return response


def _refuse(scope: Scope) -> Response:
    if scope["path"].startswith("/api/"):
        return JSONResponse({"error": "unauthorized: send Authorization: Bearer <token>"}, 401)
    return PlainTextResponse(
        "This dashboard needs its access token: open it once as /?token=<token> "
        "(the token given to `intercom-sync serve --auth-token`).",
        status_code=401,
    )
