"""OAuth2 access tokens (client credentials, refresh token or JWT bearer grants), shared and
renewed.

The SDK's ``OAuthAuthenticator`` keeps its token in each authenticator instance, renews it only
once expired, takes no lock, retries the token endpoint through urllib3 (no ``Retry-After``, no
deadline) and logs the endpoint's raw error body. Here one ``TokenSource`` per distinct auth
block serves every stream and thread that uses the block, behind a lock; it renews ahead of
expiry and after a 401, and calls the token endpoint through the connector's own ``HttpClient``
(retry policy, deadline, no redirects: the client secret stays on the token URL's origin).
``rest_api_core.credentials.CredentialAuthenticator`` puts the token on requests.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import requests

from rest_api_core.credentials import RenewableCredential, renewal_leeway
from rest_api_core.errors import ConnectorError, HTTPStatusError
from rest_api_core.http import HttpClient
from rest_api_core.jwt_auth import JwtSettings
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetriableStatusError, RetryWaitTooLongError
from rest_api_core.token_store import RefreshTokenStore

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_HINTS = {
    "invalid_client": "check client_id, client_secret and client_auth",
    "invalid_grant": "the refresh token is expired, revoked or already used",
    "invalid_scope": "check scopes",
    "unauthorized_client": "the client may not use this grant_type",
}
_JWT_BEARER_HINTS = {
    "invalid_grant": "the assertion was refused: check private_key, private_key_id, the claims "
                     "(iss, sub, aud, scope) and this machine's clock",
}

logger = logging.getLogger("rest_api_core.oauth2")


class OAuth2Error(ConnectorError):
    """The token endpoint refused or failed to give an access token."""


@dataclass(frozen=True)
class OAuth2Settings:
    """A checked ``oauth2`` auth block; equal blocks share one token."""

    token_url: str
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    grant_type: str = "client_credentials"
    refresh_token: str | None = None
    client_auth: str = "basic"
    extra_params: tuple[tuple[str, str], ...] = ()
    assertion: JwtSettings | None = None
    """grant_type jwt_bearer: how each RFC 7523 assertion is signed."""
    refresh_token_store: str | None = None

    @classmethod
    def parse(cls, block: Mapping[str, Any], field_path: str = "auth") -> OAuth2Settings:
        """Settings from a block that ``oauth2_problems`` found no fault with; a private key
        that does not parse is a ``ConfigError`` naming the field."""
        scopes = block.get("scopes") or ()
        grant_type = block.get("grant_type") or "client_credentials"
        assertion = None
        store = block.get("refresh_token_store") or None
        if store:
            RefreshTokenStore(store).check(f"{field_path}.refresh_token_store")
        if grant_type == "jwt_bearer":
            issuer = {"iss": block["client_id"]} if block.get("client_id") else {}
            assertion = JwtSettings.parse(block, field_path, default_claims=issuer)
        return cls(
            token_url=str(block["token_url"]),
            client_id=str(block["client_id"]) if block.get("client_id") else None,
            client_secret=block.get("client_secret") or None,
            scopes=tuple(scopes.split() if isinstance(scopes, str) else map(str, scopes)),
            grant_type=grant_type,
            refresh_token=block.get("refresh_token") or None,
            client_auth=block.get("client_auth") or "basic",
            extra_params=tuple(sorted((str(k), str(v))
                                      for k, v in (block.get("extra_params") or {}).items())),
            assertion=assertion,
            refresh_token_store=store,
        )

    @property
    def endpoint_url(self) -> str:
        """Where tokens come from."""
        return self.token_url

    def make_source(self, client: HttpClient | None) -> TokenSource:
        """The source of this block's tokens, fetched through ``client``."""
        assert client is not None
        return TokenSource(self, client)

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
    hints = {**_HINTS, **_JWT_BEARER_HINTS} if settings.assertion is not None else _HINTS
    if code in hints:
        message += f" ({hints[code]})"
    return OAuth2Error(message)


class TokenSource(RenewableCredential):
    """The access token of one auth block, fetched on first use and renewed when due.

    With a ``refresh_token_store``, the refresh token is read from the store when it has one,
    each exchange happens under the store's lock with the token the store holds then (another
    run may have rotated it), and a rotated token is written to the store before the new
    access token is used.
    """

    kind = "an access token"

    def __init__(self, settings: OAuth2Settings, client: HttpClient) -> None:
        super().__init__()
        self.settings = settings
        self._client = client
        self._refresh_token = settings.refresh_token
        self._store: RefreshTokenStore | None = None
        if settings.refresh_token_store:
            self._store = RefreshTokenStore(settings.refresh_token_store)
            stored = self._read_store()
            if stored:
                logger.info("OAuth2: using the refresh token kept in %s (it wins over the "
                            "configured refresh_token)", self._store.path)
                self._refresh_token = stored

    @property
    def shown_url(self) -> str:
        """The token URL without its query string."""
        return self.settings.shown_url

    def _obtain(self) -> tuple[str, float | None]:
        if self._store is None:
            body = self._request_token()
            self._take_refresh_token(body.get("refresh_token"))
        else:
            with self._store.locked():
                self._take_stored_token()
                body = self._request_token()
                self._take_refresh_token(body.get("refresh_token"))
        token = self._access_token(body)
        lifetime = _lifetime(body.get("expires_in"))
        if lifetime is None:
            logger.info("OAuth2: new access token from %s; no expires_in, so it is renewed "
                        "only when the API answers 401", self.shown_url)
        else:
            logger.info("OAuth2: new access token from %s, expires in %g s (renewed %g s "
                        "before)", self.shown_url, lifetime, renewal_leeway(lifetime))
        return token, lifetime

    def _read_store(self) -> str | None:
        assert self._store is not None
        try:
            return self._store.read()
        except (OSError, ValueError) as error:
            msg = (f"OAuth2: cannot read the refresh token store {self._store.path} "
                   f"({type(error).__name__})")
            raise OAuth2Error(msg) from None

    def _take_stored_token(self) -> None:
        stored = self._read_store()
        if stored:
            self._refresh_token = stored

    def _access_token(self, body: dict[str, Any]) -> str:
        """The response's access token, refused unless it is a bearer token (RFC 6749 7.1:
        a client must not use a token whose type it does not understand)."""
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            fields = ", ".join(map(str, body)) or "nothing"
            msg = (f"OAuth2 token response from {self.shown_url} has no access_token "
                   f"(it has: {fields})")
            raise OAuth2Error(msg)
        SECRETS.add(token)
        token_type = body.get("token_type")
        if token_type is not None and str(token_type).lower() != "bearer":
            msg = (f"OAuth2 token response from {self.shown_url} has token_type "
                   f"{SECRETS.redact(str(token_type))!r}: only bearer tokens are supported "
                   "(RFC 6749 section 7.1), so it is not used")
            raise OAuth2Error(msg)
        return token

    def _take_refresh_token(self, issued: Any) -> None:
        if not isinstance(issued, str) or not issued:
            return
        SECRETS.add(issued)
        if self.settings.grant_type != "refresh_token" or issued == self._refresh_token:
            return
        if self._store is not None:
            self._store.write(issued)  # before the new access token is used
            logger.info("OAuth2: %s issued a new refresh token; kept in %s",
                        self.shown_url, self._store.path)
        elif self._refresh_token == self.settings.refresh_token:  # the run's first rotation
            logger.warning("OAuth2: %s issued a new refresh token; it is used for the rest of "
                           "this run, and the configured refresh_token may no longer be valid "
                           "(set refresh_token_store to keep it)", self.shown_url)
        self._refresh_token = issued

    def _form(self) -> tuple[dict[str, str], requests.auth.AuthBase | None]:
        settings = self.settings
        form = {"grant_type": settings.grant_type, **dict(settings.extra_params)}
        if settings.assertion is not None:
            form["grant_type"] = JWT_BEARER_GRANT
            form["assertion"] = settings.assertion.sign(assertion_for=settings.token_url)
        if settings.scopes:
            form["scope"] = " ".join(settings.scopes)
        if settings.grant_type == "refresh_token" and self._refresh_token:
            form["refresh_token"] = self._refresh_token
        if settings.client_secret and settings.client_auth == "basic":
            return form, requests.auth.HTTPBasicAuth(str(settings.client_id),
                                                     settings.client_secret)
        if settings.client_id:
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
