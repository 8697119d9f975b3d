"""Authentication from settings, on the SDK's authenticators, scoped to one origin."""

from __future__ import annotations

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
from rest_api_core.errors import ConfigError
from rest_api_core.http import DEFAULT_TIMEOUT
from rest_api_core.oauth2 import OAuth2Authenticator, OAuth2Settings, TokenSources
from rest_api_core.origin import origin_of
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetryPolicy


class OriginScopedAuth(requests.auth.AuthBase):
    """Applies an SDK authenticator only to requests whose origin is the configured one."""

    def __init__(self, authenticator: APIAuthenticatorBase, url: str) -> None:
        self.authenticator = authenticator
        self.origin = origin_of(url)

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
        return origin_of(url) == self.origin

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url and self.applies_to(request.url):
            return self.authenticator(request)
        return request

    @property
    def renewable(self) -> bool:
        """True when the credential changes during a run (an OAuth2 access token)."""
        return isinstance(self.authenticator, OAuth2Authenticator)

    def refresh(self, request: requests.PreparedRequest) -> None:
        """Just before sending: put a renewable credential on again, in case it was renewed
        since the request was prepared (retries, templates reused for every batch)."""
        if self.renewable:
            self(request)

    def renew(self, request: requests.PreparedRequest) -> bool:
        """After a 401 to ``request``: renew the credential it carried; True when renewed
        (the request is then worth sending once more)."""
        if not self.renewable or not request.url or not self.applies_to(request.url):
            return False
        self.authenticator.renew(request)
        return True

    @property
    def token_url(self) -> str | None:
        """Where renewable credentials come from, for messages."""
        if isinstance(self.authenticator, OAuth2Authenticator):
            return self.authenticator.source.settings.shown_url
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
    tokens: TokenSources | None = None,
    policy: RetryPolicy | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OriginScopedAuth | None:
    """Turn an ``auth`` settings block into an origin-scoped SDK authenticator.

    Registers the credentials with the redactor. Raises ``ConfigError`` naming each faulty
    field when the block is incomplete. An OAuth2 token comes from ``tokens`` (the caller's, so
    equal blocks share one token; without it, from a source of its own), with ``policy`` and
    ``timeout`` for the token requests.
    """
    if not auth:
        return None
    problems = auth_problems(auth)
    if problems:
        raise ConfigError("; ".join(_at(field_path, problem) for problem in problems))
    kind = auth["type"]
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
    elif kind == "basic":
        username, password = str(auth["username"]), auth.get("password") or ""
        SECRETS.add_basic_auth(username, password)
        authenticator = BasicAuthenticator(username=username, password=password)
    else:
        settings = OAuth2Settings.parse(auth)
        settings.register_secrets()
        source = (tokens or TokenSources()).source_for(settings, policy, timeout)
        authenticator = OAuth2Authenticator(source)
    return OriginScopedAuth(authenticator, url)
