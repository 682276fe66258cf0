"""The Intercom HTTP client layer: requests, typed errors, retries, rate governor, paginators."""

from intercom_sync.client.concurrency import (
    MAX_WORKERS,
    AdjustableSemaphore,
    ConcurrencyController,
)
from intercom_sync.client.errors import (
    AuthenticationError,
    BadRequestError,
    ForeignUrlError,
    IntercomError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ScrollExistsError,
    TransientError,
    UnreachableError,
    classify,
)
from intercom_sync.client.governor import GovernorStats, RateGovernor
from intercom_sync.client.http import (
    USER_AGENT,
    ApiResponse,
    ClientOptions,
    ClientStats,
    IntercomClient,
    Page,
)
from intercom_sync.client.pagination import (
    NextUrlPaginator,
    PagePaginator,
    PaginationError,
    Paginator,
    Request,
    ScrollPaginator,
    SearchCursorPaginator,
    SinglePage,
)
from intercom_sync.client.retry import RetryPolicy, RetryState, is_retryable

__all__ = [
    "MAX_WORKERS",
    "USER_AGENT",
    "AdjustableSemaphore",
    "ApiResponse",
    "AuthenticationError",
    "BadRequestError",
    "ClientOptions",
    "ClientStats",
    "ConcurrencyController",
    "ForeignUrlError",
    "GovernorStats",
    "IntercomClient",
    "IntercomError",
    "NextUrlPaginator",
    "NotFoundError",
    "Page",
    "PagePaginator",
    "PaginationError",
    "Paginator",
    "PermissionDeniedError",
    "RateGovernor",
    "RateLimitedError",
    "Request",
    "RetryPolicy",
    "RetryState",
    "ScrollExistsError",
    "ScrollPaginator",
    "SearchCursorPaginator",
    "SinglePage",
    "TransientError",
    "UnreachableError",
    "classify",
    "is_retryable",
]
