"""The HTTP layer every plugin shares: scoped auth, deadline, size cap, rate limit, retries.

It knows nothing of Singer. The tap plugs it into the SDK's request hooks; the targets call
``HttpClient.send`` directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from requests.utils import resolve_proxies
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from rest_api_core.errors import DeadlineExceededError, HTTPStatusError, ResponseTooLargeError
from rest_api_core.http_defaults import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
from rest_api_core.origin import Origin, origin_of
from rest_api_core.ratelimit import HostLimiters, RateLimiter
from rest_api_core.ratelimit_headers import exhausted_wait
from rest_api_core.redact import SECRETS
from rest_api_core.response_rules import ResponseRule, ResponseRules, RuleRetryError
from rest_api_core.retry import RetriableStatusError, RetryPolicy, retry_after_seconds

if TYPE_CHECKING:  # auth builds token and login clients on this module: no import at runtime
    from rest_api_core.auth import OriginScopedAuth
    from rest_api_core.tls import Transport

BODY_EXCERPT_BYTES = 512
UNAUTHORIZED = 401
MAX_SENDS_AFTER_401 = 10
"""Most sends of one request after 401s, each with a renewed credential. Threads sharing a
session that expires after a few requests may each see the renewed one expire before their
turn; a 401 to a credential the API never accepted is final at once."""
_CHUNK = 64 * 1024

BODY_READ_ERRORS: dict[type[Exception], type[requests.RequestException]] = {
    ProtocolError: requests.exceptions.ChunkedEncodingError,
    DecodeError: requests.exceptions.ContentDecodingError,
    ReadTimeoutError: requests.exceptions.ReadTimeout,
    SSLError: requests.exceptions.SSLError,
}
"""urllib3 failures of a body read, and the requests error each becomes (as ``iter_content``
would raise it): all of them are retried. ``ProtocolError`` covers a reset, an abort, a close
before ``Content-Length`` bytes and a broken chunked encoding; the other errors ``read1`` can
raise (``RuntimeError`` on mixed ``decode_content``) are bugs, not transient failures."""

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("rest_api_core.http")


def body_excerpt(response: requests.Response) -> str:
    """The first 512 bytes of a response body, decoded leniently and redacted."""
    raw = response.content[:BODY_EXCERPT_BYTES] if response.content else b""
    return SECRETS.redact(raw.decode("utf-8", errors="replace"))


def describe(response: requests.Response) -> str:
    """``METHOD /path`` of the request behind a response: no query string, no secret."""
    method = response.request.method if response.request is not None else "GET"
    return f"{method} {SECRETS.redact(urlsplit(response.url).path or '/')}"


class ConnectorSession(requests.Session):
    """A ``requests.Session`` with a total deadline, a body-size cap and origin-scoped auth."""

    def __init__(
        self,
        auth: OriginScopedAuth | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__()
        self.scoped_auth = auth
        self._proxies_by_origin: dict[Origin, dict[str, str]] = {}
        self.deadline_seconds = timeout
        self.max_response_bytes = max_response_bytes

    def _proxies_for(self, request: requests.PreparedRequest) -> dict[str, str]:
        """The proxies for the request's origin, read from the environment once per origin
        (requests would scan the environment again on every send)."""
        key = origin_of(request.url or "")
        if key not in self._proxies_by_origin:
            self._proxies_by_origin[key] = resolve_proxies(request, self.proxies, self.trust_env)
        return self._proxies_by_origin[key]

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """On a redirect, send credentials only if the new URL is on the credentials' origin."""
        super().rebuild_auth(prepared_request, response)
        if self.scoped_auth is None or not prepared_request.url:
            return
        if self.scoped_auth.applies_to(prepared_request.url):
            self.scoped_auth(prepared_request)
        else:
            for name in self.scoped_auth.header_names:
                prepared_request.headers.pop(name, None)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send with the body streamed under the deadline and the size cap.

        A renewable credential (OAuth2, session, JWT) is brought up to date first; a 401 to a
        request that carried one renews it (once for every thread refused the same one) and
        sends the request again; a 401 to a credential just renewed that the API refuses
        outright (never accepted, no other request with it in flight) is final.
        """
        scoped = self.scoped_auth
        if scoped is None:
            return self._send_once(request, **kwargs)
        scoped.refresh(request)
        response, _ = scoped.send_counted(request, lambda: self._send_once(request, **kwargs))
        for _ in range(MAX_SENDS_AFTER_401):
            if response.status_code != UNAUTHORIZED or response.request is not request:
                break
            renewed = scoped.renew(request)
            if renewed is None:
                break
            if renewed:
                logger.info("HTTP 401 for %s: renewed %s from %s, sending it once more",
                            describe(response), scoped.credential_kind, scoped.token_url)
            response, refused = scoped.send_counted(
                request, lambda: self._send_once(request, **kwargs))
            if renewed and refused:
                message = (f"HTTP 401 for {describe(response)} again with "
                           f"{scoped.credential_kind} just renewed from {scoped.token_url}: "
                           "the API refuses these credentials (check their scopes and "
                           "permissions)")
                excerpt = body_excerpt(response)
                raise HTTPStatusError(f"{message}: {excerpt}" if excerpt else message,
                                      UNAUTHORIZED, response)
        return response

    def _send_once(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """``stream=True`` (requests' own meaning) leaves a successful body unread, for
        ``stream_body``; redirects and failures are read whole under the cap all the same."""
        if "proxies" not in kwargs and request.url:
            kwargs["proxies"] = self._proxies_for(request)
        deadline = time.monotonic() + self.deadline_seconds
        kwargs["timeout"] = self.deadline_seconds
        left_unread = kwargs.get("stream", False)
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        if not response._content_consumed and (  # redirect hops come back here already read
                not left_unread or response.is_redirect or response.status_code >= 400):
            self._read_body(response, deadline)
        return response

    def _read_body(self, response: requests.Response, deadline: float) -> None:
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > self.max_response_bytes:
            response.close()
            raise ResponseTooLargeError(self._too_large(response, f"announces {announced} bytes"))
        body = bytearray()
        try:
            for chunk in _drip(response, deadline, self.deadline_seconds):
                body += chunk
                if len(body) > self.max_response_bytes:
                    raise ResponseTooLargeError(self._too_large(response, "is larger"))
        finally:
            response.close()
        response._content = bytes(body)
        response._content_consumed = True

    def _too_large(self, response: requests.Response, what: str) -> str:
        return (
            f"response to {describe(response)} {what} than max_response_bytes = "
            f"{self.max_response_bytes}"
        )


def stream_body(response: requests.Response) -> Iterator[bytes]:
    """The decoded body of a response sent with ``stream=True``, piece by piece as it arrives,
    then the connection released. ``timeout`` bounds each wait for data, not the whole
    transfer (a download of gigabytes may take hours); a transfer that breaks off raises the
    requests error the retry policy retries."""
    try:
        while data := _read_chunk(response):
            yield data
    finally:
        response.close()


def _drip(response: requests.Response, deadline: float, seconds: float) -> Iterator[bytes]:
    """Yield decoded body chunks as they arrive, failing once the deadline has passed.

    urllib3 (2.6 and later) inflates compressed bodies a bounded amount at a time, so a
    small gzip body cannot expand in memory before the size cap sees it.
    """
    while True:
        if time.monotonic() > deadline:
            msg = f"{describe(response)} did not finish within its {seconds:g} s deadline"
            raise DeadlineExceededError(msg)
        data = _read_chunk(response)
        if not data:
            return
        yield data


def _read_chunk(response: requests.Response) -> bytes:
    """The next decoded piece of the body; a transfer that breaks off raises the requests
    error the retry policy retries, naming the request (never its query string)."""
    try:
        return response.raw.read1(_CHUNK, decode_content=True)
    except tuple(BODY_READ_ERRORS) as error:
        reason = error.args[0] if error.args else error
        message = f"{describe(response)}: the response body could not be read to the end ({reason})"
        retried_as = next(v for k, v in BODY_READ_ERRORS.items() if isinstance(error, k))
        raise retried_as(message, request=response.request) from error


class HttpClient:
    """A session, a retry policy and the host's rate limiter (shared through ``limiters`` with
    every client of the same run), used together."""

    def __init__(
        self,
        url: str,
        auth: OriginScopedAuth | None = None,
        policy: RetryPolicy | None = None,
        requests_per_second: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        follow_redirects: bool = True,
        connections: int = DEFAULT_POOLSIZE,
        limiters: HostLimiters | None = None,
        in_flight: AbstractContextManager | None = None,
        transport: Transport | None = None,
        rules: ResponseRules | None = None,
    ) -> None:
        self.rules = rules or ResponseRules()
        """``response.rules``: what an answer means beyond its status (``check``)."""
        self.session = ConnectorSession(auth, timeout, max_response_bytes)
        if transport is not None:
            transport.apply(self.session)
        if connections > DEFAULT_POOLSIZE:  # threads beyond the pool would drop connections
            for prefix in ("https://", "http://"):
                self.session.mount(prefix, HTTPAdapter(pool_maxsize=connections))
        self.policy = policy or RetryPolicy()
        # The run's limiters (shared with its other clients), or this client's own.
        self.limiter: RateLimiter = (limiters or HostLimiters()).for_host(
            urlsplit(url).netloc, requests_per_second)
        self.follow_redirects = follow_redirects
        self.in_flight = in_flight or nullcontext()
        """Held around each try (a run-wide cap on requests in flight, ``InFlightCap``)."""

    def check(self, response: requests.Response) -> ResponseRule | None:
        """Honour rate-limit headers, then the response rules, then raise for a failed
        status: retriable or fatal. Returns the ``ignore`` rule that says the answer holds
        nothing (whatever its status), else None.

        A server that says no requests remain holds every request to its host until the
        reset (at most ``max_retry_wait``), and so does a ``Retry-After`` on a retried status
        (one the policy will wait for); a 403 that says no requests remain is a rate limit,
        retried.
        """
        status = response.status_code
        quota_wait = exhausted_wait(response.headers)
        if quota_wait is not None:
            wait = min(quota_wait, self.policy.max_retry_wait)
            logger.info("Rate limit reached for %s: next request in %.1f s",
                        describe(response), wait)
            self.limiter.pause_until(time.monotonic() + wait)
        if self.rules:
            try:
                ignored = self.rules.apply(response, describe(response))
            except RuleRetryError as error:
                self._hold_host(error.wait if error.wait is not None
                                else retry_after_seconds(response))
                raise
            if ignored is not None:
                return ignored
        if status < 300:
            return None
        message = f"HTTP {status} {response.reason or ''} for {describe(response)}".replace(
            "  ", " "
        )
        excerpt = body_excerpt(response)
        if excerpt:
            message += f": {excerpt}"
        if status in self.policy.retry_on or (status == 403 and quota_wait is not None):
            self._hold_host(retry_after_seconds(response))
            raise RetriableStatusError(message, response)
        if 300 <= status < 400:
            message += f" (redirect to {SECRETS.redact(response.headers.get('Location', '?'))}"
            message += " not followed)"
        raise HTTPStatusError(message, status, response)

    def _hold_host(self, demanded: float | None) -> None:
        """Every thread calling this host waits out a retry's wait, not just the one retrying
        (a wait above ``max_retry_wait`` is not retried at all: the policy fails instead)."""
        if demanded is not None and demanded <= self.policy.max_retry_wait:
            self.limiter.pause_until(time.monotonic() + demanded)

    def _log_backoff(self, details: dict) -> None:
        error = details.get("exception")
        logger.warning(
            "Retrying in %.2f s (try %d failed: %s)",
            details.get("wait", 0.0),
            details.get("tries", 0),
            SECRETS.redact(str(error)),
        )

    def retrying(self, func: F) -> F:
        """Wrap one request attempt with rate limiting before each try and the retry policy."""

        def attempt(*args: Any, **kwargs: Any) -> Any:
            # A slot first, so the limiter's spacing holds at the send; but the host's turn
            # (its spacing, or a pause after a rate-limit header) is waited for without the
            # slot, which another stream (of another host) may use meanwhile.
            while True:
                with self.in_flight:
                    wait = self.limiter.try_start()
                    if wait <= 0:
                        return func(*args, **kwargs)
                time.sleep(wait)

        return self.policy.retrying(attempt, on_backoff=self._log_backoff)  # type: ignore[return-value]

    def prepare(self, request: requests.Request) -> requests.PreparedRequest:
        """Prepare ``request`` with the session's settings and authenticate it."""
        prepared = self.session.prepare_request(request)
        if self.session.scoped_auth is not None:
            prepared = self.session.scoped_auth(prepared)
        return prepared

    def with_body(
        self, template: requests.PreparedRequest, body: bytes, headers: Mapping[str, str]
    ) -> requests.PreparedRequest:
        """A copy of a prepared ``template`` with this body, these extra headers and the
        session's current cookies: far cheaper than preparing the request anew."""
        prepared = template.copy()
        prepared.prepare_body(body, None)
        prepared.headers.update(headers)
        prepared.prepare_cookies(self.session.cookies)
        return prepared

    def send(self, prepared: requests.PreparedRequest) -> requests.Response:
        """Send and check a prepared request, retrying transient failures."""

        def once() -> requests.Response:
            response = self.session.send(prepared, allow_redirects=self.follow_redirects)
            self.check(response)
            return response

        return self.retrying(once)()
