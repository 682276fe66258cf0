"""The one-line messages that end a run the user has to act on (DESIGN §3.1).

Each names the cause and the fix. They are built from the error's status, Intercom's own
message and the configured API base — never from request headers, so never the token.
"""

from __future__ import annotations

from intercom_sync.client.errors import (
    IntercomError,
    RateLimitedError,
    TransientError,
    UnreachableError,
)


def token_message() -> str:
    """Intercom refused the token itself (401 `unauthorized`)."""
    return (
        "Intercom rejected the access token (HTTP 401). Check that INTERCOM_ACCESS_TOKEN (or "
        "the variable named by intercom.access_token) holds a current token for this "
        "workspace and region; create one in Developer Hub → your app → Authentication."
    )


def unreachable_message(error: UnreachableError, api_base: str) -> str:
    """No connection could be made at all: a wrong host or port, or no network."""
    _, _, reason = error.message.partition(": ")
    return (
        f"could not reach the Intercom API at {api_base} ({reason or 'no answer'}); check "
        "intercom.base_url (--base-url) or intercom.region, and the network connection."
    )


def first_request_message(error: IntercomError, api_base: str) -> str:
    """The first request (`GET /me`) failed for another reason: nothing was synced."""
    if isinstance(error, TransientError | RateLimitedError):
        fix = (
            "Intercom (or a proxy in between) is failing or overloaded; run the sync again "
            "later — nothing was written"
        )
    else:
        fix = f"is {api_base} an Intercom API? Check intercom.base_url (--base-url)"
    return f"the first request to {api_base} (GET /me) failed: {error}. {fix}."
