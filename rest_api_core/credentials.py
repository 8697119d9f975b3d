"""Credentials that change during a run (OAuth2 tokens, session logins, signed JWTs), shared.

One source per distinct auth block serves every stream and thread that uses the block, behind
a lock: it obtains the credential on first use, renews it ahead of expiry and after the API
refuses it with a 401, and never renews twice for one refusal seen by several threads.
``CredentialAuthenticator`` is the SDK authenticator that puts the credential on requests.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Protocol

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from rest_api_core.http import HttpClient
from rest_api_core.http_defaults import DEFAULT_TIMEOUT
from rest_api_core.ratelimit import HostLimiters
from rest_api_core.retry import RetryPolicy
from rest_api_core.tls import Transport

MAX_LEEWAY_SECONDS = 60.0
LEEWAY_SHARE = 0.1


def renewal_leeway(lifetime: float) -> float:
    """How long before it expires a credential of ``lifetime`` seconds is renewed."""
    return min(LEEWAY_SHARE * lifetime, MAX_LEEWAY_SECONDS)


class RenewableCredential(ABC):
    """A credential obtained on first use and renewed when due, thread-safe.

    It is renewed ``LEEWAY_SHARE`` of its lifetime (at most ``MAX_LEEWAY_SECONDS``) before it
    expires; one without a known lifetime only when the API answers 401.
    """

    kind = "a credential"
    """What it is, for messages ("an access token", "a session", ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._credential: str | None = None
        self._renew_at: float | None = None
        self._uses_lock = threading.Lock()  # not ``_lock``: that one is held while obtaining
        self._in_flight: Counter[str] = Counter()
        self._accepted: str | None = None

    @property
    @abstractmethod
    def shown_url(self) -> str:
        """Where the credential comes from, for messages (no query string)."""

    @abstractmethod
    def _obtain(self) -> tuple[str, float | None]:
        """A new credential and its lifetime in seconds (None: unknown); called under the
        lock. It registers the credential with the redactor."""

    def current(self) -> str:
        """A credential that is not due for renewal, obtaining one if needed."""
        with self._lock:
            due = self._renew_at is not None and time.monotonic() >= self._renew_at
            if self._credential is None or due:
                self._take_new()
            assert self._credential is not None
            return self._credential

    def renew(self, rejected: str) -> bool:
        """Replace ``rejected`` (which the API refused) unless another thread already has;
        True when this call obtained the new credential."""
        with self._lock:
            if self._credential is not None and self._credential != rejected:
                return False
            self._take_new()
            return True

    @contextmanager
    def in_use(self, value: str) -> Iterator[None]:
        """Count a request carrying ``value`` as in flight for the block."""
        with self._uses_lock:
            self._in_flight[value] += 1
        try:
            yield
        finally:
            with self._uses_lock:
                self._in_flight[value] -= 1
                if not self._in_flight[value]:
                    del self._in_flight[value]

    def accepted(self, value: str) -> None:
        """The API answered a request carrying ``value`` with something other than 401
        (called while that request is still counted in flight)."""
        with self._uses_lock:
            if value == self._credential:
                self._accepted = value

    def refused_outright(self, value: str) -> bool:
        """After a 401 to a request carrying ``value`` (still in flight): True when the API
        has never accepted ``value`` and no other request carrying it is in flight whose
        answer could show it works. Then the API refuses this client's credentials; else the
        credential may just have expired (sessions that allow a few requests each)."""
        with self._uses_lock:
            return value != self._accepted and self._in_flight[value] <= 1

    def _take_new(self) -> None:
        started = time.monotonic()
        value, lifetime = self._obtain()
        self._renew_at = None if lifetime is None else (
            started + lifetime - renewal_leeway(lifetime))
        self._credential = value


class CredentialSettings(Hashable, Protocol):
    """Checked settings of a renewable credential: equal settings share one source."""

    @property
    def endpoint_url(self) -> str | None:
        """The URL the credential is obtained from (None: made locally)."""

    def make_source(self, client: HttpClient | None) -> RenewableCredential:
        """A new source, calling its endpoint through ``client``."""


class CredentialSources:
    """The credential sources of one tap or target: one per distinct auth block and transport
    (TLS, proxy), made on demand."""

    def __init__(self, limiters: HostLimiters | None = None) -> None:
        self._lock = threading.Lock()
        self._sources: dict[tuple[CredentialSettings, Transport | None], RenewableCredential] = {}
        self._limiters = limiters

    def source_for(
        self, settings: CredentialSettings, policy: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT, transport: Transport | None = None,
    ) -> RenewableCredential:
        """The source for ``settings``; the first caller's retry policy and deadline apply to
        its requests (never redirected: credentials stay on the endpoint's origin)."""
        key = (settings, transport)
        with self._lock:
            source = self._sources.get(key)
            if source is None:
                url = settings.endpoint_url
                client = None if url is None else HttpClient(
                    url, policy=policy, timeout=timeout, follow_redirects=False,
                    limiters=self._limiters, transport=transport)
                source = self._sources[key] = settings.make_source(client)
            return source


class CredentialAuthenticator(APIAuthenticatorBase):
    """Puts the source's current credential on each request in one header."""

    def __init__(self, source: RenewableCredential, header: str = "Authorization",
                 prefix: str = "Bearer ") -> None:
        super().__init__()
        self.source = source
        self.header = header
        self.prefix = prefix
        self.auth_headers = {header: ""}  # named so a redirect to another origin drops it

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the header, renewing the credential first if it is due."""
        request.headers[self.header] = f"{self.prefix}{self.source.current()}"
        return request

    def used(self, request: requests.PreparedRequest) -> str:
        """The credential ``request`` carries."""
        return str(request.headers.get(self.header, "")).removeprefix(self.prefix)

    def renew(self, request: requests.PreparedRequest) -> bool:
        """After a 401: put a credential other than the refused one on ``request``; True when
        this call obtained it (False: another thread had already)."""
        obtained = self.source.renew(self.used(request))
        self.authenticate_request(request)
        return obtained
