"""Every failure Intercom can answer with maps to one typed error."""

from __future__ import annotations

import httpx
import orjson
import pytest

from intercom_sync.client.errors import (
    AuthenticationError,
    BadRequestError,
    IntercomError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ScrollExistsError,
    TransientError,
    UnreachableError,
    classify,
)

TOKEN = "dG9rOjEyMzQ1Njc4OWFiY2RlZg=="


def error_list(code: str, message: str | None, request_id: str | None = "req-1") -> bytes:
    """An `error.list` body shaped like the OpenAPI examples."""
    error: dict[str, str] = {"code": code}
    if message is not None:
        error["message"] = message
    return orjson.dumps({"type": "error.list", "request_id": request_id, "errors": [error]})


@pytest.mark.parametrize("status", [200, 201, 204])
def test_success_is_not_an_error(status: int) -> None:
    assert classify(status, b'{"type": "admin.list"}', {}) is None


def test_401_unauthorized_is_a_rejected_token() -> None:
    error = classify(401, error_list("unauthorized", "Access Token Invalid"), {})
    assert isinstance(error, AuthenticationError)
    assert error.message.startswith("Intercom rejected the access token")
    assert (error.status, error.code, error.request_id) == (401, "unauthorized", "req-1")
    assert error.hint


def test_401_without_a_body_is_still_a_rejected_token() -> None:
    error = classify(401, b"", {})
    assert isinstance(error, AuthenticationError)
    assert error.message == "Intercom rejected the access token"


def test_401_token_unauthorized_is_a_missing_permission_with_intercoms_words() -> None:
    body = error_list("token_unauthorized", "Not authorized to access tickets (read_tickets)")
    error = classify(401, body, {})
    assert isinstance(error, PermissionDeniedError)
    assert "read_tickets" in error.message
    assert error.code == "token_unauthorized"


def test_403_is_a_missing_permission() -> None:
    error = classify(403, error_list("api_plan_restricted", "Active subscription needed."), {})
    assert isinstance(error, PermissionDeniedError)
    assert error.message == "Active subscription needed."


def test_404_is_not_found() -> None:
    error = classify(404, error_list("not_found", "Resource Not Found"), {})
    assert isinstance(error, NotFoundError)
    assert error.code == "not_found"


def test_429_is_rate_limited_and_keeps_the_reset() -> None:
    body = error_list("rate_limit_exceeded", "Exceeded rate limit of 167 in 10_seconds")
    error = classify(429, body, {"X-RateLimit-Reset": "1487332520"})
    assert isinstance(error, RateLimitedError)
    assert error.reset_at == 1487332520.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(status: int) -> None:
    error = classify(status, b"<html>Bad Gateway</html>", {})
    assert isinstance(error, TransientError)
    assert error.kind == f"http_{status}"
    assert error.status == status


def test_other_4xx_carry_intercoms_own_code_and_message() -> None:
    body = error_list("parameter_invalid", "created_at_after must be a UNIX timestamp")
    error = classify(400, body, {})
    assert type(error) is BadRequestError
    assert error.code == "parameter_invalid"
    assert "created_at_after must be a UNIX timestamp" in str(error)


def test_scroll_exists_is_its_own_bad_request() -> None:
    body = error_list("scroll_exists", "scroll already exists for this workspace")
    error = classify(400, body, {})
    assert isinstance(error, ScrollExistsError)
    assert isinstance(error, BadRequestError)


def test_a_bare_code_and_message_body_is_understood() -> None:
    error = classify(422, orjson.dumps({"code": "data_invalid", "message": "bad"}), {})
    assert isinstance(error, BadRequestError)
    assert (error.code, error.message) == ("data_invalid", "bad")


def test_str_names_status_code_and_request_id() -> None:
    error = classify(404, error_list("not_found", "Resource Not Found", "abc-123"), {})
    assert str(error) == "Resource Not Found (HTTP 404, code not_found, request abc-123)"


def test_scrub_removes_a_secret_a_server_echoed_back() -> None:
    error = classify(400, error_list("bad_request", f"token {TOKEN} is malformed"), {})
    assert error is not None
    error.scrub(TOKEN)
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert "[redacted]" in error.message


def test_unreachable_names_the_host_and_keeps_the_cause() -> None:
    cause = httpx.ConnectError("[Errno -2] Name or service not known")
    error = UnreachableError("api.intercom.io", cause=cause)
    assert str(error) == "could not reach api.intercom.io: [Errno -2] Name or service not known"
    assert error.cause is cause
    assert isinstance(error, IntercomError)


def test_headers_are_matched_case_insensitively() -> None:
    error = classify(429, b"", {"x-ratelimit-reset": "10"})
    assert isinstance(error, RateLimitedError)
    assert error.reset_at == 10.0
