"""OAuth2 access tokens (client credentials or refresh token grants), shared and renewed.

The SDK's ``OAuthAuthenticator`` keeps its token in each authenticator instance, renews it only
once expired, takes no lock, retries the token endpoint through urllib3 (no ``Retry-After``, no
deadline) and logs the endpoint's raw error body. Here one ``TokenSource`` per distinct auth
block serves every stream and thread that uses the block, behind a lock; it renews ahead of
expiry and after a 401, and calls the token endpoint through the connector's own ``HttpClient``
(retry policy, deadline, no redirects: the client secret stays on the token URL's origin).
``OAuth2Authenticator`` is the SDK authenticator that puts the token on requests.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from rest_api_core.errors import ConnectorError, HTTPStatusError
from rest_api_core.http import DEFAULT_TIMEOUT, HttpClient
from rest_api_core.ratelimit import HostLimiters
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetriableStatusError, RetryPolicy, RetryWaitTooLongError

MAX_LEEWAY_SECONDS = 60.0
LEEWAY_SHARE = 0.1
_HINTS = {
    "invalid_client": "check client_id, client_secret and client_auth",
    "invalid_grant": "the refresh token is expired, revoked or already used",
    "invalid_scope": "check scopes",
    "unauthorized_client": "the client may not use this grant_type",
}

logger = logging.getLogger("rest_api_core.oauth2")


class OAuth2Error(ConnectorError):
    """The token endpoint refused or failed to give an access token."""


@dataclass(frozen=True)
class OAuth2Settings:
    """A checked ``oauth2`` auth block; equal blocks share one token."""

    token_url: str
    client_id: str
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    grant_type: str = "client_credentials"
    refresh_token: str | None = None
    client_auth: str = "basic"
    extra_params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, block: Mapping[str, Any]) -> OAuth2Settings:
        """Settings from a block that ``oauth2_problems`` found no fault with."""
        scopes = block.get("scopes") or ()
        return cls(
            token_url=str(block["token_url"]),
            client_id=str(block["client_id"]),
            client_secret=block.get("client_secret") or None,
            scopes=tuple(scopes.split() if isinstance(scopes, str) else map(str, scopes)),
            grant_type=block.get("grant_type") or "client_credentials",
            refresh_token=block.get("refresh_token") or None,
            client_auth=block.get("client_auth") or "basic",
            extra_params=tuple(sorted((str(k), str(v))
                                      for k, v in (block.get("extra_params") or {}).items())),
        )

    @property
    def shown_url(self) -> str:
        """The token URL without its query string, for messages."""
        parts = urlsplit(self.token_url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    def register_secrets(self) -> None:
        """Have the redactor mask the client secret and refresh token, and the basic-auth
        header carrying the secret."""
        SECRETS.add(self.client_secret, self.refresh_token)
        if self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode("latin-1", "replace")
            SECRETS.add(base64.b64encode(pair).decode())


def renewal_leeway(lifetime: float) -> float:
    """How long before it expires a token of ``lifetime`` seconds is renewed."""
    return min(LEEWAY_SHARE * lifetime, MAX_LEEWAY_SECONDS)


def _lifetime(expires_in: Any) -> float | None:
    """Seconds from a token response's ``expires_in`` (a number or a numeric string)."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _refusal(settings: OAuth2Settings, error: HTTPStatusError) -> OAuth2Error:
    """A clear error for a token endpoint's refusal: its status and OAuth error code."""
    body: Any = None
    if error.response is not None:
        try:
            body = msgspec.json.decode(error.response.content or b"null")
        except msgspec.DecodeError:
            body = None
    code = body.get("error") if isinstance(body, dict) else None
    message = f"OAuth2 token request to {settings.shown_url} refused: HTTP {error.status}"
    if not isinstance(code, str):
        return OAuth2Error(f"{message} ({SECRETS.redact(str(error))})")
    message += f", error {code!r}"
    description = body.get("error_description")
    if isinstance(description, str) and description:
        message += f": {SECRETS.redact(description[:200])}"
    if code in _HINTS:
        message += f" ({_HINTS[code]})"
    return OAuth2Error(message)


class TokenSource:
    """The access token of one auth block, fetched on first use and renewed when due.

    It is renewed ``LEEWAY_SHARE`` of its lifetime (at most ``MAX_LEEWAY_SECONDS``) before it
    expires; a token without ``expires_in`` is renewed only when the API answers 401.
    """

    def __init__(self, settings: OAuth2Settings, client: HttpClient) -> None:
        self.settings = settings
        self._client = client
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at: float | None = None
        self._refresh_token = settings.refresh_token

    def current(self) -> str:
        """A token that is not due for renewal, fetching one if needed."""
        with self._lock:
            due = self._renew_at is not None and time.monotonic() >= self._renew_at
            if self._token is None or due:
                self._fetch()
            assert self._token is not None
            return self._token

    def renew(self, rejected: str) -> str:
        """A token other than ``rejected`` (which the API refused), fetched unless another
        thread has renewed it already."""
        with self._lock:
            if self._token is None or self._token == rejected:
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        started = time.monotonic()
        body = self._request_token()
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            fields = ", ".join(map(str, body)) or "nothing"
            msg = (f"OAuth2 token response from {self.settings.shown_url} has no access_token "
                   f"(it has: {fields})")
            raise OAuth2Error(msg)
        SECRETS.add(token)
        self._take_refresh_token(body.get("refresh_token"))
        lifetime = _lifetime(body.get("expires_in"))
        if lifetime is None:
            self._renew_at = None
            logger.info("OAuth2: new access token from %s; no expires_in, so it is renewed "
                        "only when the API answers 401", self.settings.shown_url)
        else:
            leeway = renewal_leeway(lifetime)
            self._renew_at = started + lifetime - leeway
            logger.info("OAuth2: new access token from %s, expires in %g s (renewed %g s "
                        "before)", self.settings.shown_url, lifetime, leeway)
        self._token = token

    def _take_refresh_token(self, issued: Any) -> None:
        if not isinstance(issued, str) or not issued:
            return
        SECRETS.add(issued)
        if self.settings.grant_type != "refresh_token" or issued == self._refresh_token:
            return
        if self._refresh_token == self.settings.refresh_token:  # the first rotation of the run
            logger.warning("OAuth2: %s issued a new refresh token; it is used for the rest of "
                           "this run, and the configured refresh_token may no longer be valid",
                           self.settings.shown_url)
        self._refresh_token = issued

    def _form(self) -> tuple[dict[str, str], requests.auth.AuthBase | None]:
        settings = self.settings
        form = {"grant_type": settings.grant_type, **dict(settings.extra_params)}
        if settings.scopes:
            form["scope"] = " ".join(settings.scopes)
        if settings.grant_type == "refresh_token" and self._refresh_token:
            form["refresh_token"] = self._refresh_token
        if settings.client_secret and settings.client_auth == "basic":
            return form, requests.auth.HTTPBasicAuth(settings.client_id, settings.client_secret)
        form["client_id"] = settings.client_id
        if settings.client_secret:
            form["client_secret"] = settings.client_secret
        return form, None

    def _request_token(self) -> dict[str, Any]:
        form, auth = self._form()
        request = requests.Request("POST", self.settings.token_url, data=form, auth=auth,
                                   headers={"Accept": "application/json"})
        where = self.settings.shown_url
        try:
            response = self._client.send(self._client.prepare(request))
        except HTTPStatusError as error:
            raise _refusal(self.settings, error) from None
        except (ConnectorError, RetriableStatusError, RetryWaitTooLongError,
                requests.RequestException) as error:
            msg = f"OAuth2 token request to {where} failed: {SECRETS.redact(str(error))}"
            raise OAuth2Error(msg) from None
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict):
            raise OAuth2Error(f"OAuth2 token response from {where} is not a JSON object")
        return body


class TokenSources:
    """The token sources of one tap or target: one per distinct auth block, made on demand."""

    def __init__(self, limiters: HostLimiters | None = None) -> None:
        self._lock = threading.Lock()
        self._sources: dict[OAuth2Settings, TokenSource] = {}
        self._limiters = limiters

    def source_for(
        self, settings: OAuth2Settings, policy: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> TokenSource:
        """The source for ``settings``; the first caller's retry policy and deadline apply to
        its token requests."""
        with self._lock:
            source = self._sources.get(settings)
            if source is None:
                client = HttpClient(settings.token_url, policy=policy, timeout=timeout,
                                    follow_redirects=False, limiters=self._limiters)
                source = self._sources[settings] = TokenSource(settings, client)
            return source


class OAuth2Authenticator(APIAuthenticatorBase):
    """Puts the source's current access token on each request as a bearer token."""

    def __init__(self, source: TokenSource) -> None:
        super().__init__()
        self.source = source

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add ``Authorization: Bearer <token>``, renewing the token first if it is due."""
        header = {"Authorization": f"Bearer {self.source.current()}"}
        self.auth_headers = header  # named so a redirect to another origin drops it
        request.headers.update(header)
        return request

    def renew(self, request: requests.PreparedRequest) -> None:
        """After a 401: replace the token the request carried with a renewed one."""
        used = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        self.source.renew(used)
        self.authenticate_request(request)
