"""A local API of repositories, their issues and their comments, for parent→child streams."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import unquote, urlsplit

from werkzeug import Request, Response

REPOS = [
    {"id": 1, "name": "web", "owner": {"login": "acme"}, "stars": 5},
    {"id": 2, "name": "api docs/v2", "owner": {"login": "acme"}, "stars": 7},
    {"id": 3, "name": "cli", "owner": {"login": "acme-labs"}, "stars": 0},
]
ISSUES = {
    ("acme", "web"): [{"number": n, "title": f"web {n}",
                       "updated_at": f"2025-01-0{n}T00:00:00Z"} for n in (1, 2, 3)],
    ("acme", "api docs/v2"): [{"number": 7, "title": "docs 7",
                               "updated_at": "2025-02-01T00:00:00Z"}],
    ("acme-labs", "cli"): [],
}
COMMENTS = {("web", 1): [{"id": 100, "body": "first"}, {"id": 101, "body": "second"}],
            ("web", 3): [{"id": 102, "body": "third"}],
            ("api docs/v2", 7): [{"id": 200, "body": "docs"}]}
_ISSUES_PATH = re.compile(r"/repos/([^/]+)/([^/]+)/issues(?:/(\d+)/comments)?")


class FakeApi:
    """Repositories (two pages), their issues (``page``/``limit``, ``since``) and comments.

    Paths are matched on the raw request URI, so a quoted ``/`` in a segment stays one
    segment; every raw path and query is kept in ``requests``.
    """

    def __init__(self, repos: list[dict] | None = None) -> None:
        self.repos = copy.deepcopy(REPOS if repos is None else repos)
        self.issues = copy.deepcopy(ISSUES)
        self.requests: list[tuple[str, dict[str, str]]] = []

    def __call__(self, request: Request) -> Response:
        raw_path = urlsplit(request.environ["RAW_URI"]).path
        self.requests.append((raw_path, dict(request.args)))
        if raw_path == "/orgs/acme/repos":
            return self._page(self.repos, request)
        match = _ISSUES_PATH.fullmatch(raw_path)
        if match is None:
            return Response("not found", status=404)
        owner, name = unquote(match.group(1)), unquote(match.group(2))
        if match.group(3):
            return self._json(COMMENTS.get((name, int(match.group(3))), []))
        if (owner, name) not in self.issues:
            return Response("no such repository", status=404)
        since = request.args.get("since", "")
        rows = [i for i in self.issues[(owner, name)] if i["updated_at"] >= since]
        return self._page(rows, request)

    def _page(self, rows: list[dict], request: Request) -> Response:
        page, limit = int(request.args.get("page", 1)), int(request.args.get("limit", 2))
        return self._json(rows[(page - 1) * limit: page * limit])

    @staticmethod
    def _json(rows: list[dict]) -> Response:
        return Response(json.dumps(rows), content_type="application/json")

    def paths(self, prefix: str = "/repos/") -> list[tuple[str, dict[str, str]]]:
        return [(path, args) for path, args in self.requests if path.startswith(prefix)]
