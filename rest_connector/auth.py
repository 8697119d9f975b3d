"""Authentication from settings, on the SDK's authenticators, scoped to one origin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
    BasicAuthenticator,
    BearerTokenAuthenticator,
)

from rest_connector.errors import ConfigError
from rest_connector.redact import SECRETS

AUTH_TYPES = ("bearer", "api_key", "basic")
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    """The (scheme, host, port) origin of a URL, with default ports made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


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


class NoAuth(requests.auth.AuthBase):
    """Sends requests as they are."""

    header_names: tuple[str, ...] = ()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def _require(auth: dict[str, Any], key: str, field_path: str, meaning: str) -> str:
    value = auth.get(key)
    if value is None or value == "":
        msg = f"{field_path}.{key}: required for auth type '{auth['type']}' ({meaning})"
        raise ConfigError(msg)
    return str(value)


def build_authenticator(
    auth: dict[str, Any] | None, url: str, field_path: str = "auth"
) -> OriginScopedAuth | None:
    """Turn an ``auth`` settings block into an origin-scoped SDK authenticator.

    Registers the credentials with the redactor. Raises ``ConfigError`` naming the field when
    the block is incomplete.
    """
    if not auth:
        return None
    kind = auth.get("type")
    authenticator: APIAuthenticatorBase
    if kind == "bearer":
        token = _require(auth, "token", field_path, "the bearer token")
        SECRETS.add(token)
        authenticator = BearerTokenAuthenticator(token=token)
    elif kind == "api_key":
        key = _require(auth, "key", field_path, "the API key value")
        SECRETS.add(key)
        header, param = auth.get("header"), auth.get("param")
        if bool(header) == bool(param):
            msg = f"{field_path}: api_key needs exactly one of 'header' or 'param' (where it goes)"
            raise ConfigError(msg)
        location = "header" if header else "params"
        authenticator = APIKeyAuthenticator(key=header or param, value=key, location=location)
    elif kind == "basic":
        username = _require(auth, "username", field_path, "the basic-auth user name")
        password = auth.get("password") or ""
        SECRETS.add_basic_auth(username, password)
        authenticator = BasicAuthenticator(username=username, password=password)
    else:
        msg = f"{field_path}.type: {kind!r} is not one of {', '.join(AUTH_TYPES)}"
        raise ConfigError(msg)
    return OriginScopedAuth(authenticator, url)
