"""What the cookbook's fixture APIs share: JSON answers, auth checks, a request log, routing."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Request, Response

Handler = Callable[[Request, re.Match], Response]


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


def basic(user: str, password: str) -> str:
    """The Authorization header value for HTTP basic."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class FixtureApi:
    """Routes (method, path regex) to handlers; refuses requests without the expected auth
    (``auth(request)`` true when it is right); keeps every request's path and query."""

    auth: Callable[[Request], bool]
    routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    public: tuple[str, ...] = ()
    """Path prefixes served without auth (a token endpoint)."""

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for ``method`` and a full-match path regex."""
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern), handler))
            return handler
        return register

    def __call__(self, request: Request) -> Response:
        self.seen.append((request.path, dict(request.args)))
        response = self._answer(request)
        self.statuses.append(response.status_code)
        return response

    def _answer(self, request: Request) -> Response:
        public = bool(self.public) and request.path.startswith(self.public)
        if not public and not self.auth(request):
            return answer({"message": "Bad credentials"}, 401)
        for method, pattern, handler in self.routes:
            found = pattern.fullmatch(request.path)
            if found and method == request.method:
                return handler(request, found)
        return answer({"message": "Not Found"}, 404)


def page_slice(items: list, start: int, size: int) -> tuple[list, int | None]:
    """``items[start:start+size]`` and the next start (None at the end)."""
    following = start + size
    return items[start:following], following if following < len(items) else None
