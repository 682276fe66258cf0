"""The Intercom HTTP client: one connection pool, every request governed and classified.

Each call goes: concurrency slot → rate governor → send → classify → parse.
Transient failures and 429s are retried per `RetryPolicy` (the governor
holds every worker back after a 429); anything else is raised at once as a
typed `IntercomError`. The token is only ever placed in the `Authorization`
header: it is not logged, not put in errors, and not sent to any host other
than the configured one (absolute `pages.next` URLs must share its origin).
"""

from __future__ import annotations

import asyncio
import logging
import random
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import SplitResult, urlsplit

import httpx
import orjson
from pydantic import SecretStr

from intercom_sync import __version__
from intercom_sync.client.concurrency import ConcurrencyController
from intercom_sync.client.errors import (
    ConnectFailed,
    ForeignUrlError,
    IntercomError,
    RateLimitedError,
    TransientError,
    UnreachableError,
    classify,
)
from intercom_sync.client.governor import RateGovernor, parse_http_date
from intercom_sync.client.pagination import Request
from intercom_sync.client.retry import RetryPolicy, RetryState, is_retryable
from intercom_sync.client.transport import ShardedTransport
from intercom_sync.clock import Clock, SystemClock
from intercom_sync.config import MAX_WORKERS, REGION_HOSTS

if TYPE_CHECKING:
    from intercom_sync.config import Settings

logger = logging.getLogger("intercom_sync.client")

USER_AGENT = f"intercom-sync/{__version__} (python-httpx)"
# Before any response has ever arrived, a refused connection or failed DNS
# lookup is almost certainly a wrong host: fail after this many attempts
# instead of backing off for minutes.
_FIRST_CONTACT_ATTEMPTS = 2
INTERCOM_API_HOSTS = frozenset(REGION_HOSTS.values())
# Requests the server acts on even when the answer is lost: never replayed blindly.
SCROLL_PATH = "/companies/scroll"


@dataclass(frozen=True)
class ClientOptions:
    """What the client needs from the configuration: plain values, built from `Settings`
    (`from_settings`), so every default is the settings' own."""

    base_url: str
    token: SecretStr = field(repr=False)
    api_version: str
    api_rate_limit: int
    num_workers: int | Literal["auto"]
    timeout: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientOptions:
        """Options from validated settings; raises ConfigError when no token is set."""
        intercom = settings.intercom
        return cls(
            base_url=settings.api_host(),
            token=settings.require_token(),
            api_version=intercom.api_version,
            api_rate_limit=intercom.api_rate_limit,
            num_workers=intercom.num_workers,
            timeout=intercom.request_timeout_seconds,
            max_attempts=intercom.max_attempts,
        )


@dataclass(frozen=True)
class ApiResponse:
    """A successful response: status, headers and the orjson-parsed body."""

    status: int
    headers: httpx.Headers
    data: dict[str, Any]
    elapsed_s: float
    # Failed attempts (5xx, resets, 429 …) retried before this answer came.
    retries: int = 0


@dataclass
class ClientStats:
    """Counters for progress displays and `_sync_runs`."""

    requests: int = 0
    responses: int = 0
    retries: int = 0
    rate_limited: int = 0
    transient: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    latency_ewma: float | None = None

    def record_latency(self, seconds: float, smoothing: float = 0.2) -> None:
        if self.latency_ewma is None:
            self.latency_ewma = seconds
        else:
            self.latency_ewma += smoothing * (seconds - self.latency_ewma)


class IntercomClient:
    """Async Intercom REST client. Use `async with IntercomClient(...) as client:`."""

    def __init__(
        self,
        options: ClientOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        governor: RateGovernor | None = None,
        rng: random.Random | None = None,
        concurrency: ConcurrencyController | None = None,
    ) -> None:
        self.options = options
        self._clock: Clock = clock or SystemClock()
        rng = rng or random.Random()
        self.governor = governor or RateGovernor(options.api_rate_limit, clock=self._clock, rng=rng)
        self.concurrency = concurrency or ConcurrencyController(
            options.num_workers, rate_per_second=self.governor.rate_per_second
        )
        self.retry_policy = RetryPolicy(max_attempts=options.max_attempts, rng=rng)
        self.stats = ClientStats()
        self.server_time: float | None = None
        base = urlsplit(options.base_url)
        self._origin = _origin(base)
        self._host = base.hostname or options.base_url
        self._base_url = options.base_url.rstrip("/")
        self._http = self._make_http(transport)

    def _make_http(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        pool = MAX_WORKERS if self.options.num_workers == "auto" else self.options.num_workers
        timeout = httpx.Timeout(self.options.timeout, connect=min(10.0, self.options.timeout))
        if transport is None and not _proxied(self._base_url):
            transport = ShardedTransport.for_connections(pool)
        return httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            headers={
                "Authorization": f"Bearer {self.options.token.get_secret_value()}",
                "Accept": "application/json",
                "Intercom-Version": self.options.api_version,
                "User-Agent": USER_AGENT,
            },
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- public calls --------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json: Mapping[str, Any]) -> ApiResponse:
        return await self.request("POST", path, json=json)

    async def send(self, request: Request, *, replayable: bool | None = None) -> ApiResponse:
        return await self.request(
            request.method, request.path, request.params, request.json, replayable=replayable
        )

    async def request(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        *,
        replayable: bool | None = None,
    ) -> ApiResponse:
        """Send with retries; return the parsed response or raise an `IntercomError`.

        `replayable=False` marks a request the server may have acted on even if
        its answer was lost (a scroll page: the server moves the scroll on when
        it answers). Such a request is retried only after a 429 or a failed
        connection — which the server never processed — and any other transient
        failure is raised at once for the caller to restart. By default only
        `/companies/scroll` is treated so.
        """
        url = self._resolve(path_or_url)
        body = orjson.dumps(json) if json is not None else None
        if replayable is None:
            replayable = not _is_scroll(url)
        retry = self.retry_policy.start()
        while True:
            try:
                response = await self._attempt(method, url, params, body)
            except IntercomError as error:
                error.scrub(self.options.token.get_secret_value())
                wait = self._retry_wait(retry, error, replayable)
                if wait is None:
                    raise self._give_up(method, url, error, retry, replayable) from None
                self.stats.retries += 1
                self._log_retry(method, url, error, retry.attempts + 1, wait)
                await self._clock.sleep(wait)
            else:
                return replace(response, retries=retry.attempts) if retry.attempts else response

    # -- one attempt -----------------------------------------------------------------

    async def _attempt(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: bytes | None
    ) -> ApiResponse:
        async with self.concurrency.slot():
            await self.governor.acquire()
            self.stats.requests += 1
            started = self._clock.now()
            response = await self._exchange(method, url, params, body)
            elapsed = self._clock.now() - started
        return self._handle(method, url, response, elapsed)

    async def _exchange(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: bytes | None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            return await self._http.request(
                method, url, params=_query(params), content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            self.governor.on_no_response()
            raise self._transport_error(exc) from exc
        except asyncio.CancelledError:
            self.governor.on_no_response()
            raise

    def _transport_error(self, exc: httpx.HTTPError) -> TransientError:
        kind = _transport_kind(exc)
        self.stats.transient[kind] += 1
        text = str(exc).strip() or type(exc).__name__
        message = f"{kind.replace('_', ' ')}: {text}"
        if isinstance(exc, httpx.ConnectError):
            return ConnectFailed(message, cause=exc)
        return TransientError(message, kind=kind, cause=exc)

    def _handle(
        self, method: str, url: str, response: httpx.Response, elapsed: float
    ) -> ApiResponse:
        _unlink(response)
        now = self._clock.now()
        self._observe(response, elapsed, now)
        logger.debug(
            "%s %s -> %d in %.3fs", method, _path_for_log(url), response.status_code, elapsed
        )
        error = classify(response.status_code, response.content, response.headers)
        if isinstance(error, RateLimitedError):
            self.stats.rate_limited += 1
            self.governor.on_rate_limited(response.headers, now)
        elif isinstance(error, TransientError):
            self.stats.transient[error.kind] += 1
        if error is not None:
            raise error
        return ApiResponse(response.status_code, response.headers, self._parse(response), elapsed)

    def _observe(self, response: httpx.Response, elapsed: float, now: float) -> None:
        self.governor.observe(response.headers, now)
        self.stats.responses += 1
        self.stats.bytes_received += len(response.content)
        self.stats.record_latency(elapsed)
        self.concurrency.set_rate(self.governor.rate_per_second)
        self.concurrency.observe_latency(elapsed)
        server_time = parse_http_date(response.headers.get("date"))
        if server_time is not None:
            self.server_time = max(self.server_time or server_time, server_time)

    def _parse(self, response: httpx.Response) -> dict[str, Any]:
        if not response.content:
            return {}
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            self.stats.transient["invalid_json"] += 1
            raise TransientError(
                f"Intercom sent a body that is not valid JSON ({len(response.content)} bytes)",
                kind="invalid_json",
                cause=exc,
                status=response.status_code,
            ) from None
        if not isinstance(data, dict):
            self.stats.transient["invalid_json"] += 1
            raise TransientError(
                f"Intercom sent JSON {type(data).__name__}, expected an object",
                kind="invalid_json",
                status=response.status_code,
            )
        return data

    # -- retry decisions ---------------------------------------------------------------

    def _retry_wait(
        self, retry: RetryState, error: IntercomError, replayable: bool
    ) -> float | None:
        connect_failed = isinstance(error, ConnectFailed)
        if not replayable and isinstance(error, TransientError) and not connect_failed:
            retry.transient_failures += 1
            return None
        never_connected = self.stats.responses == 0
        if (
            connect_failed
            and never_connected
            and retry.transient_failures + 1 >= _FIRST_CONTACT_ATTEMPTS
        ):
            retry.transient_failures += 1
            return None
        return retry.next_wait(error)

    def _log_retry(
        self, method: str, url: str, error: IntercomError, attempt: int, wait: float
    ) -> None:
        path = _path_for_log(url)
        if isinstance(error, RateLimitedError):
            # Every worker pauses here in a 429 storm: informative, not alarming.
            pause = max(0.0, self.governor.blocked_until - self._clock.now())
            logger.info(
                "rate limited on %s %s; all requests pause %.2fs (attempt %d)",
                method,
                path,
                pause,
                attempt,
            )
            return
        # A retry that then succeeds is routine under a flaky API: it is counted (in the
        # progress display and the summary), and logged only with -v. A request given up
        # for good is a warning (see _give_up).
        logger.info(
            "retrying %s %s after %s (attempt %d, waiting %.2fs)",
            method,
            path,
            _error_summary(error),
            attempt,
            wait,
        )

    def _give_up(
        self, method: str, url: str, error: IntercomError, retry: RetryState, replayable: bool
    ) -> IntercomError:
        final = self._final_error(error, retry, replayable)
        # Not warned: an error that is never retried (404, 403 …: the caller decides), a
        # scroll page (its runner restarts the scroll and says so), and an unreachable host
        # (the run's one error line says so).
        worth_a_warning = is_retryable(error) and replayable
        if worth_a_warning and not isinstance(final, UnreachableError):
            logger.warning("gave up on %s %s: %s", method, _path_for_log(url), final.message)
        return final

    def _final_error(
        self, error: IntercomError, retry: RetryState, replayable: bool
    ) -> IntercomError:
        if isinstance(error, ConnectFailed):
            return UnreachableError(self._host, cause=error.cause)
        if isinstance(error, TransientError) and not replayable:
            note = "not retried: the server may have moved the scroll on; restart it"
        elif isinstance(error, TransientError | RateLimitedError):
            note = f"gave up after {retry.attempts} attempts"
        else:
            return error
        error.message = f"{error.message}; {note}"
        error.args = (error.message,)
        return error

    def _resolve(self, path_or_url: str) -> str:
        """An absolute URL for a path, or a checked one for a link the API returned.

        A link to the configured origin is followed as is. A link to one of
        Intercom's own API hosts while `base_url` points elsewhere (a proxy, the
        simulator) is rebased onto `base_url`. Anything else is refused: the
        token is only ever sent to the configured host.
        """
        if "://" not in path_or_url:
            return f"{self._base_url}/{path_or_url.lstrip('/')}"
        target = urlsplit(path_or_url)
        if _origin(target) == self._origin:
            return path_or_url
        if target.hostname in INTERCOM_API_HOSTS and target.scheme == "https":
            rebased = f"{self._base_url}/{target.path.lstrip('/')}"
            return f"{rebased}?{target.query}" if target.query else rebased
        raise ForeignUrlError(
            f"refusing to follow a link to {target.scheme}://{target.hostname}: "
            f"only {self._host} receives the access token"
        )


def _unlink(response: httpx.Response) -> None:
    """Free a read response as soon as it is dropped. httpx binds each response to its
    stream and the stream back to the response, a reference cycle only the cyclic
    collector frees — which a sync runs rarely (`engine.tuning`): search pages of 150
    contacts (~300 KB) piled up to 45 MB in membership scans. The body is read by now, so
    the stream is not needed."""
    response.stream = httpx.ByteStream(b"")


def _proxied(base_url: str) -> bool:
    """Whether the environment routes `base_url` through a proxy (then httpx's own default
    transport, which reads those settings, is kept)."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _is_scroll(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith(SCROLL_PATH)


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default_port


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    return {key: _query_value(value) for key, value in params.items() if value is not None}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _transport_kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.RemoteProtocolError) and "incomplete" in str(exc).lower():
        return "truncated_body"
    if isinstance(exc, httpx.DecodingError):
        return "invalid_body"
    return "connection_reset"


def _path_for_log(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _error_summary(error: IntercomError) -> str:
    if isinstance(error, TransientError):
        return error.kind
    return f"HTTP {error.status}" if error.status is not None else type(error).__name__
