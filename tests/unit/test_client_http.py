"""The HTTP client against `httpx.MockTransport`, on virtual time."""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import replace
from email.utils import formatdate
from typing import Any

import httpx
import orjson
import pytest

from intercom_sync.client import (
    AuthenticationError,
    BadRequestError,
    ClientOptions,
    ForeignUrlError,
    IntercomClient,
    IntercomError,
    PermissionDeniedError,
    RateGovernor,
    RateLimitedError,
    Request,
    SearchCursorPaginator,
    TransientError,
    UnreachableError,
    paginate,
)
from intercom_sync.clock import ManualClock
from intercom_sync.config import IntercomSettings, Settings, load_settings

TOKEN = "dG9rOnNlY3JldC10b2tlbi0wMTIzNDU2Nzg5"
BASE = "https://api.intercom.io"
START = 1_767_225_600.0

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def options(**kw: Any) -> ClientOptions:
    """The options of default settings with a token, changed by `kw`."""
    settings = Settings(intercom=IntercomSettings(access_token=TOKEN, base_url=BASE))  # type: ignore[arg-type]
    return replace(ClientOptions.from_settings(settings), **kw)


def client_for(handler: Handler, clock: ManualClock | None = None, **kw: Any) -> IntercomClient:
    return IntercomClient(
        options(**kw),
        transport=httpx.MockTransport(handler),
        clock=clock or ManualClock(START),
        rng=random.Random(0),
    )


def ok(data: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, content=orjson.dumps(data or {"type": "list"}), headers=headers)


def error_list(status: int, code: str, message: str) -> httpx.Response:
    body = {
        "type": "error.list",
        "request_id": "r-1",
        "errors": [{"code": code, "message": message}],
    }
    return httpx.Response(status, content=orjson.dumps(body))


class Script:
    """A handler that answers from a list (the last answer repeats) and records requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- what is sent -----------------------------------------------------------------------


async def test_every_request_carries_auth_version_accept_and_user_agent() -> None:
    script = Script(ok())
    async with client_for(script, api_version="2.14") as client:
        await client.get("/admins")
    sent = script.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Intercom-Version"] == "2.14"
    assert sent.headers["User-Agent"].startswith("intercom-sync/")
    assert str(sent.url) == f"{BASE}/admins"


async def test_get_sends_params_and_post_sends_a_json_body() -> None:
    script = Script(ok({"type": "conversation.list", "conversations": []}))
    async with client_for(script) as client:
        await client.get("/admins/activity_logs", {"created_at_after": 1677253093, "x": None})
        response = await client.post("/conversations/search", {"query": {"field": "id"}})
    get, post = script.requests
    assert dict(get.url.params) == {"created_at_after": "1677253093"}
    assert post.method == "POST"
    assert post.headers["Content-Type"] == "application/json"
    assert orjson.loads(post.content) == {"query": {"field": "id"}}
    assert response.status == 200
    assert response.data == {"type": "conversation.list", "conversations": []}


async def test_a_base_url_with_a_path_prefix_is_kept() -> None:
    script = Script(ok())
    async with client_for(script, base_url="http://proxy.local:8080/intercom/") as client:
        await client.get("admins")
    assert str(script.requests[0].url) == "http://proxy.local:8080/intercom/admins"


async def test_same_host_absolute_urls_are_followed_and_others_refused() -> None:
    script = Script(ok())
    async with client_for(script) as client:
        await client.request("GET", f"{BASE}/admins/activity_logs?page=2")
        with pytest.raises(ForeignUrlError):
            await client.request("GET", "https://evil.example/admins/activity_logs?page=3")
        with pytest.raises(ForeignUrlError):
            await client.request("GET", "http://api.intercom.io/admins")  # not https
    assert len(script.requests) == 1
    assert str(script.requests[0].url) == f"{BASE}/admins/activity_logs?page=2"


async def test_an_intercom_link_is_rebased_onto_a_proxy_base_url() -> None:
    script = Script(ok())
    async with client_for(script, base_url="http://proxy.local:8080/intercom") as client:
        await client.request("GET", "https://api.intercom.io/admins/activity_logs?page=2")
        with pytest.raises(ForeignUrlError):
            await client.request("GET", "https://api.intercom.io.evil.example/admins")
    assert [str(r.url) for r in script.requests] == [
        "http://proxy.local:8080/intercom/admins/activity_logs?page=2"
    ]


async def test_an_explicit_default_port_is_the_same_origin() -> None:
    script = Script(ok())
    async with client_for(script) as client:
        await client.request("GET", "https://api.intercom.io:443/admins?page=2")
    assert len(script.requests) == 1


# -- retries ----------------------------------------------------------------------------------


async def test_server_errors_are_retried_with_backoff_on_the_injected_clock() -> None:
    clock = ManualClock(START)
    script = Script(
        error_list(503, "service_unavailable", "Service Unavailable"),
        error_list(502, "bad_gateway", "x"),
        ok(),
    )
    async with client_for(script, clock=clock) as client:
        response = await client.get("/admins")
        assert response.status == 200
        assert client.stats.retries == 2
        assert client.stats.transient == {"http_503": 1, "http_502": 1}
        assert client.stats.requests == 3
    assert clock.slept > 0


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ReadError("Connection reset by peer"), "connection_reset"),
        (
            httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                "incomplete chunked read"
            ),
            "truncated_body",
        ),
    ],
)
async def test_network_failures_are_retried(failure: Exception, kind: str) -> None:
    script = Script(ok({"warmup": True}), failure, ok({"type": "admin.list"}))
    async with client_for(script) as client:
        await client.get("/me")
        response = await client.get("/admins")
        assert response.data == {"type": "admin.list"}
        assert client.stats.transient == {kind: 1}
        assert client.governor.in_flight == 0


async def test_invalid_or_truncated_json_is_retried() -> None:
    truncated = httpx.Response(200, content=b'{"type": "admin.list", "admins": [{"id": "1"')
    not_an_object = httpx.Response(200, content=b"[1, 2]")
    script = Script(truncated, not_an_object, ok({"type": "admin.list"}))
    async with client_for(script) as client:
        response = await client.get("/admins")
        assert response.data == {"type": "admin.list"}
        assert client.stats.transient == {"invalid_json": 2}


async def test_a_server_that_keeps_failing_ends_in_a_transient_error() -> None:
    script = Script(error_list(500, "server_error", "Internal Server Error"))
    async with client_for(script, max_attempts=4) as client:
        with pytest.raises(TransientError) as caught:
            await client.get("/contacts/search")
    assert len(script.requests) == 4
    assert caught.value.status == 500
    assert "gave up after 4 attempts" in str(caught.value)


async def test_a_429_waits_for_the_reset_then_retries(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(START + 3)
    reset = int(START + 10)
    limited = error_list(429, "rate_limit_exceeded", "Exceeded rate limit of 167 in 10_seconds")
    limited.headers.update(
        {"X-RateLimit-Limit": "167", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    )
    seen: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now())
        return limited if len(seen) == 1 else ok()

    async with client_for(handler, clock=clock) as client:
        with caplog.at_level(logging.INFO, logger="intercom_sync.client"):
            await client.get("/admins")
        # The reset is 7 s away, and where the server's window really ends is not yet
        # learned: up to a second after it (the governor's boundary uncertainty).
        assert "rate limited on GET /admins; all requests pause 8." in caplog.text
        assert client.stats.rate_limited == 1
        assert client.governor.stats.rate_limited == 1
        assert client.governor.server_limit == 167
    assert seen[1] >= reset


async def test_endless_429s_end_in_a_rate_limited_error() -> None:
    script = Script(error_list(429, "rate_limit_exceeded", "slow down"))
    async with client_for(script) as client:
        client.retry_policy.max_rate_limited = 3
        with pytest.raises(RateLimitedError):
            await client.get("/admins")
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (error_list(401, "unauthorized", "Access Token Invalid"), AuthenticationError),
        (
            error_list(401, "token_unauthorized", "Not authorized for tickets"),
            PermissionDeniedError,
        ),
        (
            error_list(403, "api_plan_restricted", "Active subscription needed."),
            PermissionDeniedError,
        ),
        (error_list(400, "parameter_invalid", "per_page must be at most 150"), BadRequestError),
    ],
)
async def test_client_errors_are_raised_at_once(
    response: httpx.Response, error_type: type[IntercomError]
) -> None:
    script = Script(response)
    async with client_for(script) as client:
        with pytest.raises(error_type):
            await client.get("/tickets/search")
    assert len(script.requests) == 1


async def test_a_lost_scroll_page_is_not_replayed_because_the_scroll_moved_on() -> None:
    truncated = httpx.Response(200, content=b'{"type": "list", "data": [{"id": "1"')
    script = Script(truncated, ok({"type": "list", "data": []}))
    async with client_for(script) as client:
        with pytest.raises(TransientError) as caught:
            await client.get("/companies/scroll", {"scroll_param": "abc"})
    assert caught.value.kind == "invalid_json"
    assert "restart" in str(caught.value)
    assert len(script.requests) == 1  # the caller restarts the scroll instead


@pytest.mark.parametrize(
    "failure",
    [
        error_list(500, "server_error", "Request failed due to an internal network error"),
        httpx.ReadError("Connection reset by peer"),
        httpx.ReadTimeout("timed out"),
    ],
)
async def test_a_scroll_failure_that_may_have_reached_the_server_is_raised_at_once(
    failure: httpx.Response | Exception,
) -> None:
    script = Script(failure, ok())
    async with client_for(script) as client:
        with pytest.raises(TransientError):
            await client.send(Request.get("/companies/scroll"))
    assert len(script.requests) == 1


async def test_a_scroll_is_retried_after_a_429_or_a_failed_connection() -> None:
    limited = error_list(429, "rate_limit_exceeded", "slow down")
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    script = Script(ok(), limited, refused, ok({"type": "list", "data": [{"id": "9"}]}))
    async with client_for(script) as client:
        await client.get("/me")
        response = await client.get("/companies/scroll", {"scroll_param": "abc"})
    assert response.data["data"] == [{"id": "9"}]
    assert len(script.requests) == 4


async def test_replayable_can_be_set_either_way() -> None:
    script = Script(ok())
    async with client_for(script) as client:
        script.answers = [error_list(503, "unavailable", "x"), ok({"retried": True})]
        response = await client.send(Request.get("/companies/scroll"), replayable=True)
        assert response.data == {"retried": True}
        script.answers = [error_list(503, "unavailable", "x"), ok()]
        with pytest.raises(TransientError):
            await client.send(Request.get("/contacts/1/companies"), replayable=False)
    assert len(script.requests) == 3


# -- unreachable -----------------------------------------------------------------------------


async def test_a_host_that_cannot_be_reached_fails_fast_and_says_so() -> None:
    script = Script(httpx.ConnectError("[Errno -2] Name or service not known"))
    async with client_for(script, base_url="https://api.eu.intercom.io") as client:
        with pytest.raises(UnreachableError) as caught:
            await client.get("/me")
    assert str(caught.value).startswith("could not reach api.eu.intercom.io")
    assert len(script.requests) == 2


async def test_a_refused_connection_mid_run_is_retried_like_any_transient_failure() -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    script = Script(ok(), refused, refused, refused, ok({"back": True}))
    async with client_for(script) as client:
        await client.get("/me")
        response = await client.get("/admins")
    assert response.data == {"back": True}


# -- statistics, server time, pages ---------------------------------------------------------------


async def test_stats_and_server_time() -> None:
    clock = ManualClock(START)

    async def handler(request: httpx.Request) -> httpx.Response:
        await clock.sleep(0.2)  # latency on virtual time
        return ok({"type": "admin.list"}, Date=formatdate(START + 5, usegmt=True))

    async with client_for(handler, clock=clock) as client:
        response = await client.get("/admins")
        assert response.elapsed_s == pytest.approx(0.2)
        assert client.stats.responses == 1
        assert client.stats.bytes_received == len(orjson.dumps({"type": "admin.list"}))
        assert client.stats.latency_ewma == pytest.approx(0.2)
        assert client.server_time == START + 5


async def test_paginate_walks_a_search_to_its_end() -> None:
    def page(cursor: str | None, ids: list[str]) -> httpx.Response:
        pages: dict[str, Any] = {"type": "pages", "per_page": 2}
        if cursor:
            pages["next"] = {"per_page": 2, "starting_after": cursor}
        return ok({"type": "contact.list", "data": [{"id": i} for i in ids], "pages": pages})

    script = Script(page("c1", ["1", "2"]), page("c2", ["3", "4"]), page(None, ["5"]))
    first = Request.post("/contacts/search", {"query": {}, "pagination": {"per_page": 2}})
    async with client_for(script) as client:
        pages = paginate(client.send, first, SearchCursorPaginator(), "data")
        seen = [p async for p in pages]
    assert [[r["id"] for r in p.records] for p in seen] == [
        ["1", "2"],
        ["3", "4"],
        ["5"],
    ]
    assert seen[-1].next_request is None
    assert seen[0].next_request is not None
    assert [
        orjson.loads(r.content)["pagination"].get("starting_after") for r in script.requests
    ] == [None, "c1", "c2"]


async def test_requests_in_flight_never_exceed_a_fixed_worker_count() -> None:
    clock = ManualClock(START)
    active = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await clock.sleep(0.1)
        active -= 1
        return ok()

    async with client_for(handler, clock=clock, num_workers=3) as client:
        await asyncio.gather(*(client.get(f"/contacts/{n}") for n in range(20)))
    assert peak == 3


async def test_a_shared_governor_sees_every_request_of_every_client() -> None:
    clock = ManualClock(START)
    governor = RateGovernor(600, clock=clock, rng=random.Random(1))
    clients = [
        IntercomClient(
            options(), transport=httpx.MockTransport(Script(ok())), clock=clock, governor=governor
        )
        for _ in range(2)
    ]
    for client in clients:
        await client.get("/admins")
        await client.aclose()
    assert governor.stats.sent == 2


async def test_a_cancelled_request_is_no_longer_counted_in_flight() -> None:
    started = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError

    async with client_for(handler) as client:
        task = asyncio.create_task(client.get("/admins"))
        await started.wait()
        assert client.governor.in_flight == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.governor.in_flight == 0
        assert client.concurrency.semaphore.in_use == 0


def test_options_come_from_settings(tmp_path: Any) -> None:
    settings = load_settings(
        env={"INTERCOM_ACCESS_TOKEN": TOKEN, "INTERCOM_SYNC_REGION": "au"},
        overrides={"num_workers": 5, "api_version": "2.13"},
        cwd=tmp_path,
    )
    opts = ClientOptions.from_settings(settings)
    assert opts.base_url == "https://api.au.intercom.io"
    assert opts.token.get_secret_value() == TOKEN
    assert (opts.api_version, opts.num_workers, opts.api_rate_limit) == ("2.13", 5, 9500)
    assert TOKEN not in repr(opts)


# -- the token stays secret --------------------------------------------------


async def test_the_token_appears_in_no_log_and_no_error_of_a_failing_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[httpx.Response | Exception] = [
        error_list(503, "service_unavailable", "down"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        error_list(400, "bad_request", f"Bearer {TOKEN} is not a valid header"),  # a server echo
    ]
    failures: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        async with client_for(Script(*answers), max_attempts=8) as client:
            try:
                await client.get("/admins")
            except IntercomError as error:
                failures.append(error)
        for status, code in ((401, "unauthorized"), (500, "server_error")):
            async with client_for(
                Script(error_list(status, code, "nope")), max_attempts=3
            ) as client:
                try:
                    await client.get("/me")
                except IntercomError as error:
                    failures.append(error)
        async with client_for(Script(httpx.ConnectError("refused"))) as client:
            try:
                await client.get("/me")
            except IntercomError as error:
                failures.append(error)
    assert len(failures) == 4
    texts = [caplog.text]
    for failure in failures:
        texts += [str(failure), repr(failure), "".join(traceback.format_exception(failure))]
        cause = getattr(failure, "cause", None)
        if cause is not None:
            texts += [str(cause), repr(cause)]
    assert "retrying GET /admins" in caplog.text  # the logs were captured
    for text in texts:
        assert TOKEN not in text


# -- what a retry says (issue 12: no WARNING per retry that then succeeds) ------------------


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_retries_that_succeed_are_counted_and_only_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Script(
        error_list(503, "service_unavailable", "busy"),
        httpx.RemoteProtocolError("peer closed connection"),
        ok({"type": "admin.list", "admins": []}),
    )
    with caplog.at_level(logging.INFO, logger="intercom_sync.client"):
        async with client_for(flaky) as client:
            response = await client.get("/admins")
            again = await client.get("/admins")
    assert len(flaky.requests) == 4
    assert (response.retries, again.retries, client.stats.retries) == (2, 0, 2)
    assert warnings_in(caplog) == []
    retried = [r for r in caplog.records if r.getMessage().startswith("retrying GET /admins")]
    assert [r.levelno for r in retried] == [logging.INFO, logging.INFO]


async def test_a_request_given_up_is_one_warning_and_a_plain_error_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    boom = error_list(500, "server_error", "boom")
    script = Script(ok(), boom, boom, boom, error_list(404, "not_found", "gone"))
    with caplog.at_level(logging.INFO, logger="intercom_sync.client"):
        async with client_for(script, max_attempts=3) as client:
            await client.get("/me")  # the host answers: later failures are not a wrong host
            with pytest.raises(TransientError, match="gave up after 3 attempts"):
                await client.get("/admins")
            (warning,) = warnings_in(caplog)
            assert warning.startswith("gave up on GET /admins: ")
            assert "gave up after 3 attempts" in warning
            caplog.clear()
            with pytest.raises(IntercomError):
                await client.get("/conversations/1")
    assert len(script.requests) == 5
    assert warnings_in(caplog) == []  # never retried: the caller decides what a 404 means


async def test_a_refused_connection_is_a_typed_connect_failure_retried_only_as_one() -> None:
    """Retry decides on the error's type: a connection that could not be made is
    `ConnectFailed` (safe to replay even for a scroll page), and before any answer ever
    came, two of them mean a wrong host."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client_for(refuse) as client:
        with pytest.raises(UnreachableError):
            await client.get("/companies/scroll")
        assert client.stats.transient["connect"] == 2
        assert client.stats.requests == 2  # a scroll page, yet replayed: nothing reached it
