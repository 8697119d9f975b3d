"""Authentication from settings, on the SDK's authenticators, scoped to one origin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
    BasicAuthenticator,
    BearerTokenAuthenticator,
)

from rest_api_core.auth_settings import auth_problems
from rest_api_core.config import SettingsProblem, format_path
from rest_api_core.credentials import (
    CredentialAuthenticator,
    CredentialSettings,
    CredentialSources,
)
from rest_api_core.errors import ConfigError
from rest_api_core.http import UNAUTHORIZED
from rest_api_core.http_defaults import DEFAULT_TIMEOUT
from rest_api_core.jwt_auth import BearerJwtSettings, JwtSettings
from rest_api_core.oauth2 import OAuth2Settings
from rest_api_core.origin import origin_of
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetryPolicy
from rest_api_core.session_auth import SessionSettings
from rest_api_core.tls import Transport


class OriginScopedAuth(requests.auth.AuthBase):
    """Applies an SDK authenticator only to requests whose origin is the configured one (or
    one of ``also_to``: a login's origin, for the cookies it set)."""

    def __init__(self, authenticator: APIAuthenticatorBase, url: str,
                 also_to: tuple[str, ...] = ()) -> None:
        self.authenticator = authenticator
        self.origin = origin_of(url)
        self.origins = frozenset({self.origin, *map(origin_of, also_to)})

    @property
    def header_names(self) -> tuple[str, ...]:
        """Names of the headers that carry credentials."""
        return tuple(self.authenticator.auth_headers or {})

    @property
    def param_names(self) -> frozenset[str]:
        """Names of the query parameters that carry credentials."""
        return frozenset(self.authenticator.auth_params or {})

    def applies_to(self, url: str) -> bool:
        """True when ``url`` is on the origin the credentials belong to."""
        return origin_of(url) in self.origins

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url and self.applies_to(request.url):
            return self.authenticator(request)
        return request

    @property
    def renewable(self) -> bool:
        """True when the credential changes during a run (OAuth2, session, JWT)."""
        return isinstance(self.authenticator, CredentialAuthenticator)

    def refresh(self, request: requests.PreparedRequest) -> None:
        """Just before sending: put a renewable credential on again, in case it was renewed
        since the request was prepared (retries, templates reused for every batch)."""
        if self.renewable:
            self(request)

    def renew(self, request: requests.PreparedRequest) -> bool | None:
        """After a 401 to ``request``: put a credential other than the one it carried on it.
        None when there is none to renew; else True when this call obtained it, False when
        another thread had already (either way the request is worth sending once more)."""
        if not isinstance(self.authenticator, CredentialAuthenticator) or not request.url \
                or not self.applies_to(request.url):
            return None
        return self.authenticator.renew(request)

    def send_counted(self, request: requests.PreparedRequest,
                     send: Callable[[], requests.Response]) -> tuple[requests.Response, bool]:
        """``send()`` counted in flight with the renewable credential ``request`` carries;
        the answer, and True when it is a 401 to a credential the API refuses outright (see
        ``RenewableCredential.refused_outright``)."""
        authenticator = self.authenticator
        if not isinstance(authenticator, CredentialAuthenticator):
            return send(), False
        value = authenticator.used(request)
        with authenticator.source.in_use(value):
            response = send()
            if response.status_code != UNAUTHORIZED:
                authenticator.source.accepted(value)
                return response, False
            return response, authenticator.source.refused_outright(value)

    @property
    def credential_kind(self) -> str:
        """What the renewable credential is, for messages ("an access token", ...)."""
        if isinstance(self.authenticator, CredentialAuthenticator):
            return self.authenticator.source.kind
        return "a credential"

    @property
    def token_url(self) -> str | None:
        """Where renewable credentials come from, for messages."""
        if isinstance(self.authenticator, CredentialAuthenticator):
            return self.authenticator.source.shown_url
        return None


class NoAuth(requests.auth.AuthBase):
    """Sends requests as they are."""

    header_names: tuple[str, ...] = ()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def _at(field_path: str, problem: SettingsProblem) -> str:
    where = f"{field_path}.{format_path(problem.path)}" if problem.path else field_path
    return f"{where}: {problem.message}"


def build_authenticator(
    auth: dict[str, Any] | None,
    url: str,
    field_path: str = "auth",
    *,
    tokens: CredentialSources | None = None,
    policy: RetryPolicy | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transport: Transport | None = None,
) -> OriginScopedAuth | None:
    """Turn an ``auth`` settings block into an origin-scoped SDK authenticator.

    Registers the credentials with the redactor. Raises ``ConfigError`` naming each faulty
    field when the block is incomplete or its private key does not parse. A renewable
    credential (OAuth2 token, session, JWT) comes from ``tokens`` (the caller's, so equal
    blocks share one; without it, from a source of its own), with ``policy``, ``timeout`` and
    ``transport`` (TLS, proxy) for the token and login requests.
    """
    if not auth:
        return None
    problems = auth_problems(auth)
    if problems:
        raise ConfigError("; ".join(_at(field_path, problem) for problem in problems))
    kind = auth["type"]
    if kind in ("oauth2", "session", "jwt"):
        return _renewable(auth, url, field_path, tokens or CredentialSources(),
                          policy, timeout, transport)
    authenticator: APIAuthenticatorBase
    if kind == "bearer":
        SECRETS.add(auth["token"])
        authenticator = BearerTokenAuthenticator(token=str(auth["token"]))
    elif kind == "api_key":
        SECRETS.add(auth["key"])
        header, param = auth.get("header"), auth.get("param")
        location = "header" if header else "params"
        authenticator = APIKeyAuthenticator(key=header or param, value=str(auth["key"]),
                                            location=location)
    else:
        username, password = str(auth["username"]), auth.get("password") or ""
        SECRETS.add_basic_auth(username, password)
        authenticator = BasicAuthenticator(username=username, password=password)
    return OriginScopedAuth(authenticator, url)


def _renewable(
    auth: dict[str, Any], url: str, field_path: str, tokens: CredentialSources,
    policy: RetryPolicy | None, timeout: float, transport: Transport | None,
) -> OriginScopedAuth:
    settings: CredentialSettings
    header, prefix, also_to = "Authorization", "Bearer ", ()
    if auth["type"] == "oauth2":
        settings = OAuth2Settings.parse(auth, field_path)
        settings.register_secrets()
    elif auth["type"] == "jwt":
        settings = BearerJwtSettings(JwtSettings.parse(auth, field_path))
    else:
        settings = SessionSettings.parse(auth)
        if settings.cookie:
            header, prefix, also_to = "Cookie", "", (settings.login_url,)
        elif auth.get("send"):
            header = auth["send"].get("header") or header
            prefix = auth["send"].get("prefix", "Bearer " if header == "Authorization" else "")
    if auth.get("tls"):  # the endpoint's own TLS; the stream's proxy still applies
        transport = Transport.parse(auth["tls"], transport.proxy if transport else None,
                                    f"{field_path}.tls")
    source = tokens.source_for(settings, policy, timeout, transport)
    return OriginScopedAuth(CredentialAuthenticator(source, header, prefix or ""), url, also_to)
