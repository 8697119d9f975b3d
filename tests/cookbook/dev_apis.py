"""Fixture APIs in the documented shapes of GitHub, Jira, Zendesk and Notion, traps included."""

from __future__ import annotations

from werkzeug import Request

from tests.conftest import CANARY_PASSWORD, CANARY_TOKEN, CANARY_USER
from tests.cookbook.fixture_api import FixtureApi, answer, basic, page_slice

GITHUB_REPOS = ["web", "api", "docs"]
GITHUB_ISSUES = {"web": 3, "api": 1}
"""``docs`` has its issues disabled: GitHub answers 410 Gone."""


def github(base: str) -> FixtureApi:
    """Repos of an org, issues per repo; ``Link`` headers, 2 per page whatever ``per_page``."""
    api = FixtureApi(lambda r: r.headers.get("Authorization") == f"Bearer {CANARY_TOKEN}")
    repos = [{"id": n, "name": name, "full_name": f"acme/{name}", "owner": {"login": "acme"}}
             for n, name in enumerate(GITHUB_REPOS, 1)]

    def linked(items: list, request: Request) -> object:
        page = int(request.args.get("page", 1))
        chunk, following = page_slice(items, (page - 1) * 2, 2)
        headers = {}
        if following is not None:
            headers["Link"] = f'<{base}{request.path}?page={page + 1}&per_page=100>; rel="next"'
        return answer(chunk, headers=headers)

    @api.route("GET", r"/orgs/acme/repos")
    def org_repos(request, _):
        return linked(repos, request)

    @api.route("GET", r"/repos/acme/([^/]+)/issues")
    def issues(request, found):
        name = found.group(1)
        if name not in GITHUB_ISSUES:
            return answer({"message": "Issues are disabled for this repo",
                           "documentation_url": "https://docs.github.com/rest/issues"}, 410)
        rows = [{"id": 1000 * GITHUB_REPOS.index(name) + n, "number": n, "title": f"{name} #{n}",
                 "updated_at": f"2025-03-0{n + 1}T00:00:00Z"}
                for n in range(GITHUB_ISSUES[name])]
        return linked(rows, request)

    return api


JIRA_ISSUES = 7
JIRA_CAP = 3
"""Jira returns at most this many a page, whatever ``maxResults`` asks."""
JIRA_DELETED = "ACME-4"
"""Deleted between the search and its worklog request: 404."""


def jira(_base: str) -> FixtureApi:
    api = FixtureApi(lambda r: r.headers.get("Authorization") == basic(CANARY_USER,
                                                                        CANARY_TOKEN))
    issues = [{"id": str(10000 + n), "key": f"ACME-{n}", "fields": {"summary": f"Issue {n}"}}
              for n in range(1, JIRA_ISSUES + 1)]

    def offset_page(items: list, request: Request, key: str) -> object:
        start = int(request.args.get("startAt", 0))
        size = min(int(request.args.get("maxResults", 50)), JIRA_CAP)
        return answer({"startAt": start, "maxResults": size, "total": len(items),
                       key: items[start:start + size]})

    @api.route("GET", r"/rest/api/3/search")
    def search(request, _):
        if not request.args.get("jql"):
            return answer({"errorMessages": ["jql is required"]}, 400)
        return offset_page(issues, request, "issues")

    @api.route("GET", r"/rest/api/3/issue/([^/]+)/worklog")
    def worklog(request, found):
        if found.group(1) == JIRA_DELETED:
            return answer({"errorMessages": ["Issue does not exist or you do not have "
                                             "permission to see it."]}, 404)
        rows = [{"id": f"{found.group(1)}-w{n}", "timeSpentSeconds": 3600} for n in range(2)]
        return offset_page(rows, request, "worklogs")

    return api


ZENDESK_TICKETS = 5
ZENDESK_USERS = 2


def zendesk(base: str) -> FixtureApi:
    api = FixtureApi(lambda r: r.headers.get("Authorization") == basic(
        f"{CANARY_USER}/token", CANARY_PASSWORD))

    def cursor_page(items: list, request: Request, key: str) -> object:
        size = min(int(request.args.get("page[size]", 100)), 100)
        start = int(request.args.get("page[after]") or 0)
        chunk, following = page_slice(items, start, min(size, 2))
        after = str(following) if following is not None else None
        return answer({key: chunk,
                       "meta": {"has_more": following is not None, "after_cursor": after,
                                "before_cursor": str(start)},
                       "links": {"next": f"{base}{request.path}?page[after]={after}",
                                 "prev": None}})

    @api.route("GET", r"/api/v2/tickets\.json")
    def tickets(request, _):
        rows = [{"id": n, "subject": f"Ticket {n}", "status": "open"}
                for n in range(1, ZENDESK_TICKETS + 1)]
        return cursor_page(rows, request, "tickets")

    @api.route("GET", r"/api/v2/users\.json")
    def users(request, _):
        rows = [{"id": n, "name": f"User {n}"} for n in range(1, ZENDESK_USERS + 1)]
        return cursor_page(rows, request, "users")

    return api


NOTION_PAGES = 3
NOTION_BLOCKS = 2


def notion(_base: str) -> FixtureApi:
    api = FixtureApi(lambda r: r.headers.get("Authorization") == f"Bearer {CANARY_TOKEN}")
    pages = [{"object": "page", "id": f"page-{n}", "last_edited_time": "2025-02-01T00:00:00Z",
              "properties": {"Name": {"title": []}}} for n in range(NOTION_PAGES)]

    def cursor_page(items: list, start: int) -> object:
        chunk, following = page_slice(items, start, 2)
        return answer({"object": "list", "results": chunk,
                       "next_cursor": str(following) if following is not None else None,
                       "has_more": following is not None})

    def versioned(request: Request) -> bool:
        return request.headers.get("Notion-Version") == "2022-06-28"

    @api.route("POST", r"/v1/databases/db-1/query")
    def query(request, _):
        if not versioned(request):
            return answer({"object": "error", "code": "missing_version"}, 400)
        body = request.get_json()
        if body.get("page_size", 100) > 100 or "sorts" not in body:
            return answer({"object": "error", "code": "validation_error"}, 400)
        return cursor_page(pages, int(body.get("start_cursor") or 0))

    @api.route("GET", r"/v1/blocks/([^/]+)/children")
    def blocks(request, found):
        if not versioned(request):
            return answer({"object": "error", "code": "missing_version"}, 400)
        rows = [{"object": "block", "id": f"{found.group(1)}-b{n}", "type": "paragraph"}
                for n in range(NOTION_BLOCKS)]
        return cursor_page(rows, int(request.args.get("start_cursor") or 0))

    return api
