"""Typed errors, one per way an Intercom request can fail, and the pure classifier.

Callers decide what to do by the class alone: the engine skips a stream on
`PermissionDeniedError`, the CLI exits 2 on `AuthenticationError`, the retry
loop retries `TransientError` and `RateLimitedError` and nothing else.

No message built here ever contains the access token: messages are made from
the status, Intercom's error code and message, and the host — never from
request headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson


class IntercomError(Exception):
    """Base class. `status` is the HTTP status when there was a response."""

    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code:
            details.append(f"code {self.code}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def scrub(self, secret: str) -> None:
        """Remove `secret` from the message, in case a server echoed it back."""
        if secret and secret in self.message:
            self.message = self.message.replace(secret, "[redacted]")
            self.args = (self.message,)


class AuthenticationError(IntercomError):
    """401 `unauthorized`: the token itself is wrong, revoked or expired."""

    hint = "check the access token (INTERCOM_ACCESS_TOKEN) or create a new one in Intercom"


class PermissionDeniedError(IntercomError):
    """401 `token_unauthorized` or 403: the token is valid but lacks a permission.

    `message` carries Intercom's own text, which names what is missing.
    """

    hint = "grant the missing permission to the app in Intercom's Developer Hub"


class NotFoundError(IntercomError):
    """404: the object (or an expired scroll) does not exist."""


class RateLimitedError(IntercomError):
    """429. Raised to callers only once the retry budget for 429s is spent."""

    hint = "lower api_rate_limit, or check what else is using this app's allowance"

    def __init__(self, message: str, *, reset_at: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reset_at = reset_at


class TransientError(IntercomError):
    """A failure worth retrying: 5xx, timeout, reset, truncated or invalid body.

    `kind` names the failure for statistics (`http_503`, `timeout`,
    `connection_reset`, `truncated_body`, `invalid_json`, `connect`);
    `cause` is the underlying exception, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        cause: BaseException | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.kind = kind
        self.cause = cause


class ConnectFailed(TransientError):
    """No connection could be made (refused, DNS, unreachable): the server never saw the
    request, so it is safe to retry even where a replay is not (a scroll page); and before
    any response ever arrived it most likely means a wrong host."""

    def __init__(self, message: str, *, cause: BaseException | None = None, **kw: Any) -> None:
        super().__init__(message, kind="connect", cause=cause, **kw)


class BadRequestError(IntercomError):
    """Any other 4xx: the request was wrong; Intercom's code and message say why."""


class ScrollExistsError(BadRequestError):
    """`scroll_exists`: another company scroll is open for this workspace."""


class UnreachableError(IntercomError):
    """DNS failure or refused connection: the host could not be reached at all."""

    hint = "check the region or base_url, and the network connection"

    def __init__(self, host: str, *, cause: BaseException | None = None) -> None:
        reason = _short_reason(cause)
        super().__init__(f"could not reach {host}" + (f": {reason}" if reason else ""))
        self.host = host
        self.cause = cause


class ForeignUrlError(IntercomError):
    """A pagination link pointed at another host; the token is never sent there."""


def classify(
    status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> IntercomError | None:
    """Map a response to the error it represents, or None for a success (< 300).

    Pure: it looks only at the status, the body (Intercom's `error.list`) and
    the rate-limit headers.
    """
    if status < 300:
        return None
    code, message, request_id = _parse_error_body(body)
    kw: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}
    if status == 401:
        if code == "token_unauthorized":
            return PermissionDeniedError(message or "the token lacks a permission", **kw)
        return AuthenticationError(_rejected_token(message), **kw)
    if status == 403:
        return PermissionDeniedError(message or "access denied", **kw)
    if status == 404:
        return NotFoundError(message or "not found", **kw)
    if status == 429:
        reset_at = _float_header(headers, "x-ratelimit-reset")
        return RateLimitedError(message or "rate limit exceeded", reset_at=reset_at, **kw)
    if status >= 500 or status in (408, 425):
        return TransientError(message or _status_text(status), kind=f"http_{status}", **kw)
    if code == "scroll_exists":
        return ScrollExistsError(message or "a company scroll is already open", **kw)
    return BadRequestError(message or _status_text(status), **kw)


def _rejected_token(message: str | None) -> str:
    base = "Intercom rejected the access token"
    return f"{base}: {message}" if message else base


def _parse_error_body(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(code, message, request_id) from an `error.list` body; Nones if it is not one."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None
    request_id = _str_or_none(data.get("request_id"))
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, dict):
        return _str_or_none(first.get("code")), _str_or_none(first.get("message")), request_id
    # Some endpoints answer with a bare {"code": …, "message": …}.
    return _str_or_none(data.get("code")), _str_or_none(data.get("message")), request_id


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float_header(headers: Mapping[str, str] | None, name: str) -> float | None:
    raw = header_value(headers, name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and httpx.Headers."""
    if headers is None:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _status_text(status: int) -> str:
    return f"Intercom answered HTTP {status}"


def _short_reason(cause: BaseException | None) -> str:
    if cause is None:
        return ""
    text = str(cause).strip() or type(cause).__name__
    return text[:200]
