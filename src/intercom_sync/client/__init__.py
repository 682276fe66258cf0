"""The Intercom HTTP client layer: requests, typed errors, retries, rate governor, paginators."""

from intercom_sync.client.concurrency import (
    AdjustableSemaphore,
    ConcurrencyController,
)
from intercom_sync.client.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectFailed,
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
)
from intercom_sync.client.pagination import (
    AnchoredSearchPaginator,
    NextUrlPaginator,
    PagePaginator,
    PaginationError,
    Paginator,
    Request,
    ScrollPaginator,
    SearchCursorPaginator,
)
from intercom_sync.client.paging import Page, paginate, records_in
from intercom_sync.client.retry import RetryPolicy, RetryState, is_retryable

__all__ = [
    "USER_AGENT",
    "AdjustableSemaphore",
    "AnchoredSearchPaginator",
    "ApiResponse",
    "AuthenticationError",
    "BadRequestError",
    "ClientOptions",
    "ClientStats",
    "ConcurrencyController",
    "ConnectFailed",
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
    "TransientError",
    "UnreachableError",
    "classify",
    "is_retryable",
    "paginate",
    "records_in",
]
