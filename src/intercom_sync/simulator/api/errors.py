"""Intercom-shaped error responses (`error.list`) raised anywhere in the simulator.

Every error the simulated API returns goes through `ApiError`, so each body has
the `error` component's shape: `{"type": "error.list", "request_id", "errors":
[{"code", "message"}]}`. Codes follow the ones Intercom documents.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer. `headers` are extra response headers (e.g. rate limits)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, Any]:
        return error_body(self.code, self.message, request_id)


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error.list",
        "request_id": request_id,
        "errors": [{"code": code, "message": message}],
    }


def bad_request(message: str, code: str = "parameter_invalid") -> ApiError:
    return ApiError(400, code, message)


def not_found(message: str = "Resource Not Found", code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "Access Token Invalid")


def missing_permission(scope: str, denial: str) -> ApiError:
    """A valid token that lacks `scope`: Intercom answers 401 token_unauthorized or 403."""
    if denial == "403":
        return ApiError(
            403,
            "api_plan_restricted",
            f"Not authorized to access this resource: the token lacks the {scope} permission",
        )
    return ApiError(
        401,
        "token_unauthorized",
        f"Not authorized to access resource: the token lacks the {scope} permission",
    )
