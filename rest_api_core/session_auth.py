"""Session login: credentials posted to a login endpoint for a token or cookies, renewed.

Legacy ERP, ticketing and observability APIs (and many internal ones) hand out a session this
way. One login serves every stream and thread sharing the auth block (``RenewableCredential``);
it is repeated ahead of the session's expiry when the answer or ``ttl`` gives one, and after
the API answers 401. A failed login names the login URL and status, never the credentials.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import requests

from rest_api_core.credentials import RenewableCredential
from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConnectorError, HTTPStatusError
from rest_api_core.http import HttpClient
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetriableStatusError, RetryWaitTooLongError

logger = logging.getLogger("rest_api_core.session_auth")


class SessionLoginError(ConnectorError):
    """The login endpoint refused or gave no session."""


def string_leaves(value: Any) -> Iterator[str]:
    """Every string (or number) inside nested objects and lists: the values a login body
    may carry credentials in."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield str(value)


@dataclass(frozen=True)
class SessionSettings:
    """A checked ``session`` auth block; equal blocks share one login."""

    login_url: str
    method: str = "POST"
    body_json: str | None = None
    form: tuple[tuple[str, str], ...] | None = None
    token_field: str | None = None
    token_header: str | None = None
    cookie: bool = False
    expires_in_field: str | None = None
    ttl: float | None = None

    @classmethod
    def parse(cls, block: Mapping[str, Any]) -> SessionSettings:
        """Settings from a block ``session_problems`` found no fault with; every value of the
        login body is registered with the redactor."""
        login = block["login"]
        SECRETS.add(*string_leaves(login.get("body")), *string_leaves(login.get("form")))
        form = login.get("form")
        return cls(
            login_url=str(login["url"]),
            method=str(login.get("method") or "POST").upper(),
            body_json=None if login.get("body") is None else json.dumps(login["body"],
                                                                        sort_keys=True),
            form=None if form is None else tuple(sorted((str(k), str(v))
                                                        for k, v in form.items())),
            token_field=login.get("token_field"),
            token_header=login.get("token_header"),
            cookie=bool(login.get("cookie")),
            expires_in_field=login.get("expires_in_field"),
            ttl=float(login["ttl"]) if login.get("ttl") else None,
        )

    @property
    def shown_url(self) -> str:
        """The login URL without its query string, for messages."""
        parts = urlsplit(self.login_url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    @property
    def endpoint_url(self) -> str:
        """Where sessions come from."""
        return self.login_url

    def make_source(self, client: HttpClient | None) -> SessionSource:
        """The source of this block's sessions, logging in through ``client``."""
        assert client is not None
        return SessionSource(self, client)


class SessionSource(RenewableCredential):
    """The session of one auth block: a token, or a ``Cookie`` header value with cookie."""

    kind = "a session"

    def __init__(self, settings: SessionSettings, client: HttpClient) -> None:
        super().__init__()
        self.settings = settings
        self._client = client

    @property
    def shown_url(self) -> str:
        """The login URL without its query string."""
        return self.settings.shown_url

    def _obtain(self) -> tuple[str, float | None]:
        response = self._log_in()
        settings = self.settings
        if settings.cookie:
            value = "; ".join(f"{name}={cookie}" for name, cookie in response.cookies.items())
            SECRETS.add(*response.cookies.values())
            missing = "set no cookie"
        elif settings.token_header:
            value = response.headers.get(settings.token_header, "")
            missing = f"has no {settings.token_header} header"
        else:
            found = dig(self._json(response), str(settings.token_field))
            value = "" if found is None or isinstance(found, bool | dict | list) else str(found)
            missing = f"has no token at {settings.token_field}"
        if not value:
            raise SessionLoginError(f"Session login answer from {self.shown_url} {missing}")
        SECRETS.add(value)
        lifetime = self._lifetime(response)
        logger.info("Session: logged in at %s; %s", self.shown_url,
                    "renewed when the API answers 401" if lifetime is None
                    else f"expires in {lifetime:g} s")
        return value, lifetime

    def _lifetime(self, response: requests.Response) -> float | None:
        field = self.settings.expires_in_field
        if field is None:
            return self.settings.ttl
        found = dig(self._json(response), field)
        try:
            seconds = float(found)
        except (TypeError, ValueError):
            msg = (f"Session login answer from {self.shown_url} has no number of seconds at "
                   f"{field} (expires_in_field)")
            raise SessionLoginError(msg) from None
        return seconds if seconds > 0 else None

    def _json(self, response: requests.Response) -> Any:
        try:
            return msgspec.json.decode(response.content or b"null")
        except msgspec.DecodeError:
            msg = f"Session login answer from {self.shown_url} is not JSON"
            raise SessionLoginError(msg) from None

    def _log_in(self) -> requests.Response:
        settings = self.settings
        self._client.session.cookies.clear()  # an old session's cookies are not sent
        request = requests.Request(
            settings.method, settings.login_url, headers={"Accept": "application/json"},
            data=dict(settings.form) if settings.form is not None else settings.body_json)
        if settings.body_json is not None:
            request.headers["Content-Type"] = "application/json"
        try:
            return self._client.send(self._client.prepare(request))
        except HTTPStatusError as error:
            msg = f"Session login to {self.shown_url} refused: HTTP {error.status}"
            raise SessionLoginError(msg) from None
        except (ConnectorError, RetriableStatusError, RetryWaitTooLongError,
                requests.RequestException) as error:
            msg = (f"Session login to {self.shown_url} failed: "
                   f"{type(error).__name__}: {SECRETS.redact(str(error))}")
            raise SessionLoginError(msg) from None
