"""A local OAuth2 token endpoint for the tests, and an API that accepts only its tokens.

Both run on pytest-httpserver instances, so each is an origin of its own. Every token issued
starts with ``CANARY_ISSUED_PREFIX``, so the canary checks catch any that is printed.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import (
    CANARY_CLIENT_SECRET,
    CANARY_ISSUED_PREFIX,
    CANARY_REFRESH_TOKEN,
    OAUTH2_CLIENT_ID,
)

TOKEN_PATH = "/oauth2/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOCK_GRACE = 0.2
"""Seconds a token stays accepted past its lifetime: for a busy test machine, not a skewed
clock (both ends share one)."""


@dataclass(frozen=True)
class TokenRequest:
    """One request the token endpoint received."""

    form: dict[str, str]
    authorization: str | None
    bearer_seen: bool


@dataclass
class TokenServer:
    """Issues access tokens by client credentials or (rotating) refresh tokens.

    ``lifetime`` is sent as ``expires_in`` (None: not sent, tokens never expire) and enforced
    by ``accepts``. With ``rotate``, each refresh grant answers a new refresh token and only
    the latest one is accepted afterwards (the old one gets ``invalid_grant``). A JWT bearer
    assertion is accepted when ``public_key`` verifies it and its ``aud`` is the token URL;
    its claims are kept in ``assertion_claims`` and the assertions in ``assertions``.
    """

    server: HTTPServer
    lifetime: float | None = 3600
    rotate: bool = False
    refuse_with: tuple[int, dict] | None = None
    delay: float = 0.0
    script: list[Response] = field(default_factory=list)
    requests: list[TokenRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=lambda: [CANARY_REFRESH_TOKEN])
    public_key: str | None = None
    token_type: str = "Bearer"
    assertions: list[str] = field(default_factory=list)
    assertion_claims: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._issued_at: dict[str, float] = {}
        self._revoked: set[str] = set()
        self.server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for(TOKEN_PATH)

    def auth(self, **settings: object) -> dict:
        """An ``oauth2`` auth block for this server with the canary client secret."""
        return {"type": "oauth2", "token_url": self.url, "client_id": OAUTH2_CLIENT_ID,
                "client_secret": CANARY_CLIENT_SECRET, **settings}

    def accepts(self, token: str) -> bool:
        """True for a token issued here, not revoked and within its lifetime (plus grace)."""
        with self._lock:
            issued_at = self._issued_at.get(token)
            if issued_at is None or token in self._revoked:
                return False
            return self.lifetime is None or time.monotonic() - issued_at <= (
                self.lifetime + CLOCK_GRACE)

    def revoke_all(self) -> None:
        with self._lock:
            self._revoked.update(self._issued_at)

    def _handle(self, request: Request) -> Response:
        form = request.form.to_dict()
        authorization = request.headers.get("Authorization")
        time.sleep(self.delay)
        with self._lock:
            self.requests.append(TokenRequest(form, authorization,
                                              "Bearer" in str(request.headers)))
            if self.script:
                return self.script.pop(0)
            if self.refuse_with is not None:
                status, error = self.refuse_with
                return _json(error, status)
            if form.get("grant_type") == JWT_BEARER:
                return self._assertion_grant(form)
            if not _client_is_valid(form, authorization):
                return _json({"error": "invalid_client"}, 401)
            body = self._grant(form)
        return _json(body, 200 if "access_token" in body else 400)

    def _assertion_grant(self, form: dict[str, str]) -> Response:
        assertion = form.get("assertion", "")
        self.assertions.append(assertion)
        try:
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256", "ES256", "PS256"],
                                audience=self.url)
        except jwt.PyJWTError as error:
            return _json({"error": "invalid_grant",
                          "error_description": f"bad assertion: {type(error).__name__}"}, 400)
        self.assertion_claims.append(claims)
        return _json(self._issue())

    def _grant(self, form: dict[str, str]) -> dict:
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != self.refresh_tokens[-1]:
                return {"error": "invalid_grant", "error_description": "refresh token reused"}
        elif form.get("grant_type") != "client_credentials":
            return {"error": "unsupported_grant_type"}
        body = self._issue()
        if self.rotate and form.get("grant_type") == "refresh_token":
            rotated = f"{CANARY_ISSUED_PREFIX}refresh-{len(self.refresh_tokens)}"
            self.refresh_tokens.append(rotated)
            body["refresh_token"] = rotated
        return body

    def _issue(self) -> dict:
        """A new access token (with ``expires_in`` when tokens expire)."""
        token = f"{CANARY_ISSUED_PREFIX}access-{len(self.issued)}-{secrets.token_hex(4)}"
        self.issued.append(token)
        self._issued_at[token] = time.monotonic()
        body: dict = {"access_token": token, "token_type": self.token_type}
        if self.lifetime is not None:
            body["expires_in"] = self.lifetime
        return body


def _client_is_valid(form: dict[str, str], authorization: str | None) -> bool:
    basic = "Basic " + base64.b64encode(
        f"{OAUTH2_CLIENT_ID}:{CANARY_CLIENT_SECRET}".encode()).decode()
    in_body = (form.get("client_id"), form.get("client_secret")) == (
        OAUTH2_CLIENT_ID, CANARY_CLIENT_SECRET)
    return authorization == basic or (in_body and authorization is None)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class ProtectedApi:
    """A paged API that answers 401 unless the bearer token is one the token server accepts.

    Page ``n`` of ``pages`` holds record ``{"id": n}``; each answer waits ``delay`` seconds.
    ``before_page`` may act (revoke tokens) before a page's token is checked.
    """

    server: HTTPServer
    tokens: TokenServer
    pages: int = 3
    delay: float = 0.0
    before_page: Callable[[int], None] = lambda _: None
    seen: list[tuple[int, str, int]] = field(default_factory=list)
    """(page, Authorization header, status answered) of each request."""

    def __post_init__(self) -> None:
        self.server.expect_request("/items").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/items")

    @property
    def unauthorized(self) -> int:
        return sum(1 for _, _, status in self.seen if status == 401)

    def _handle(self, request: Request) -> Response:
        page = int(request.args.get("page", 1))
        self.before_page(page)
        header = request.headers.get("Authorization", "")
        accepted = header.startswith("Bearer ") and self.tokens.accepts(header[7:])
        self.seen.append((page, header, 200 if accepted else 401))
        if not accepted:
            return _json({"error": "invalid_token"}, 401)
        time.sleep(self.delay)
        more = page < self.pages
        return _json({"data": [{"id": page}], "next": f"?page={page + 1}" if more else None})

    def stream(self, name: str = "items", **settings: object) -> dict:
        """The tap stream reading every page."""
        return {"name": name, "url": self.url, "pagination": {"type": "next_link"},
                "response": {"root_key": "data"}, **settings}


@pytest.fixture
def token_server() -> TokenServer:
    """A token endpoint on an origin of its own, issuing long-lived tokens."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield TokenServer(server)
    server.clear()
    server.stop()
