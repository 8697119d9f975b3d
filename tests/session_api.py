"""A legacy session API for the tests: log in with the canary user and password, get a session
(a token in the JSON answer, in a header, or a cookie) that expires after ``uses`` requests.

It runs on a threaded pytest-httpserver, so requests read ahead really are answered at once.
Every session token starts with ``CANARY_ISSUED_PREFIX``: the canary checks catch any printed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import CANARY_ISSUED_PREFIX, CANARY_PASSWORD, CANARY_USER

LOGIN_PATH = "/auth/login"
ITEMS_PATH = "/items"


@dataclass
class SessionApi:
    """``total`` records ``{"id": i}`` in pages of ``page_size`` (``page`` parameter, with
    ``meta.total``), readable with a session that allows ``uses`` requests."""

    server: HTTPServer
    total: int = 30
    page_size: int = 2
    uses: int | None = 3
    deliver: str = "field"
    """Where the login answer has the session: field, header or cookie."""
    expires_in: float | None = None
    logins: list[int] = field(default_factory=list)
    """For each login, how many requests the session it replaced had left (0: expired)."""
    refused: int = 0
    served: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[str, int] = {}
        self._current: str | None = None
        self.server.expect_request(LOGIN_PATH, method="POST").respond_with_handler(self._login)
        self.server.expect_request(ITEMS_PATH).respond_with_handler(self._items)

    @property
    def login_url(self) -> str:
        return self.server.url_for(LOGIN_PATH)

    @property
    def url(self) -> str:
        return self.server.url_for(ITEMS_PATH)

    def auth(self, **login: object) -> dict:
        """A ``session`` auth block logging in with the canary credentials."""
        where = {"field": {"token_field": "data.token"},
                 "header": {"token_header": "X-Auth-Token"},
                 "cookie": {"cookie": True}}[self.deliver]
        block = {"url": self.login_url,
                 "body": {"username": CANARY_USER, "password": CANARY_PASSWORD},
                 **where, **login}
        auth: dict = {"type": "session", "login": block}
        if self.deliver == "header":
            auth["send"] = {"header": "X-Session", "prefix": ""}
        return auth

    def stream(self, **settings: object) -> dict:
        """A tap stream reading every page."""
        return {"name": "items", "url": self.url, "response": {"root_key": "data"},
                "pagination": {"type": "page", "page_size": self.page_size,
                               "total_field": "meta.total"}, **settings}

    def _login(self, request: Request) -> Response:
        try:
            sent = json.loads(request.data)
        except ValueError:
            sent = request.form.to_dict()
        if (sent.get("username"), sent.get("password")) != (CANARY_USER, CANARY_PASSWORD):
            return Response(json.dumps({"error": "bad credentials", "you_sent": sent}),
                            status=403, content_type="application/json")
        with self._lock:
            self.logins.append(self._left.get(self._current or "", 0))
            token = f"{CANARY_ISSUED_PREFIX}session-{len(self.logins)}"
            self._left[token] = self.uses if self.uses is not None else 10**9
            self._current = token
        body: dict = {"data": {"token": token} if self.deliver == "field" else {}}
        if self.expires_in is not None:
            body["data"]["expires_in"] = self.expires_in
        response = Response(json.dumps(body), content_type="application/json")
        if self.deliver == "header":
            response.headers["X-Auth-Token"] = token
        elif self.deliver == "cookie":
            response.set_cookie("sid", token, httponly=True)
            response.set_cookie("lang", "en")
        return response

    def _session_of(self, request: Request) -> str:
        if self.deliver == "cookie":
            return request.cookies.get("sid", "") if request.cookies.get("lang") == "en" else ""
        if self.deliver == "header":
            return request.headers.get("X-Session", "")
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    def use(self, session: str) -> bool:
        """Count one request with ``session``; False (and counted as refused) when it is
        unknown or used up."""
        with self._lock:
            if self._left.get(session, 0) <= 0:
                self.refused += 1
                return False
            self._left[session] -= 1
            return True

    def _items(self, request: Request) -> Response:
        if not self.use(self._session_of(request)):
            return Response(json.dumps({"error": "session expired"}), status=401,
                            content_type="application/json")
        page = int(request.args.get("page", 1))
        first = (page - 1) * self.page_size
        ids = list(range(first, min(first + self.page_size, self.total)))
        with self._lock:
            self.served.append(page)
        return Response(json.dumps({"data": [{"id": i} for i in ids],
                                    "meta": {"total": self.total}}),
                        content_type="application/json")


@pytest.fixture
def session_api() -> SessionApi:
    """A session API on a threaded server of its own."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield SessionApi(server)
    server.clear()
    server.stop()
