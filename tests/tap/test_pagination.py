"""Every pagination strategy, over real HTTP."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.tap.conftest import stream

ROWS = [{"id": i, "name": f"row {i}"} for i in range(23)]


def _json(body: object, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), headers=headers or {}, content_type="application/json")


def offset_handler(cap: int | None = None, total: bool = False):
    def handle(request: Request) -> Response:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 100))
        if cap:
            limit = min(limit, cap)
        body: dict = {"data": ROWS[offset:offset + limit]}
        if total:
            body["meta"] = {"total": len(ROWS)}
        return _json(body)
    return handle


def test_offset_reads_every_page_and_stops_on_short_page(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(offset_handler())
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "offset", "page_size": 10},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))
    offsets = [r.args.get("offset") for r, _ in httpserver.log]
    assert offsets == ["0", "10", "20"]
    assert {r.args.get("limit") for r, _ in httpserver.log} == {"10"}


def test_offset_with_total_survives_a_server_that_caps_page_size(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(offset_handler(cap=5, total=True))
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "offset", "page_size": 10,
                                              "total_field": "meta.total"},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))
    assert [r.args.get("offset") for r, _ in httpserver.log] == ["0", "5", "10", "15", "20"]


def test_offset_custom_params_start_and_no_limit_param(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        skip = int(request.args["skip"])
        return _json(ROWS[skip:skip + 10])
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "offset", "page_size": 10, "start": 3,
                                              "offset_param": "skip", "limit_param": None})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(3, 23))
    assert all("limit" not in r.args for r, _ in httpserver.log)


def test_page_number_pagination_with_total(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        page, size = int(request.args["p"]), int(request.args["per_page"])
        start = page * size
        return _json({"items": ROWS[start:start + size], "count": len(ROWS)})
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "page", "page_param": "p", "start_page": 0,
                                              "page_size": 8, "limit_param": "per_page",
                                              "total_field": "count"},
                                  response={"root_key": "items"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))
    assert [r.args["p"] for r, _ in httpserver.log] == ["0", "1", "2"]


def test_cursor_from_body_dot_path_with_stop_field(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        start = int(request.args.get("after", 0))
        chunk = ROWS[start:start + 10]
        more = start + 10 < len(ROWS)
        return _json({"data": chunk, "paging": {"next": {"after": str(start + 10)}},
                      "has_more": more})
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "cursor", "cursor_field": "paging.next.after",
                                              "cursor_param": "after", "stop_field": "has_more",
                                              "page_size": 10},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 23
    first, *rest = [r for r, _ in httpserver.log]
    assert "after" not in first.args
    assert [r.args["after"] for r in rest] == ["10", "20"]


def test_cursor_from_header(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        start = int(request.args.get("cursor", 0))
        headers = {"X-Next-Cursor": str(start + 10)} if start + 10 < len(ROWS) else {}
        return _json(ROWS[start:start + 10], headers)
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "cursor", "cursor_from": "header",
                                              "cursor_field": "X-Next-Cursor"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))


def test_cursor_from_last_record_like_stripe(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        after = request.args.get("starting_after")
        start = 0 if after is None else int(after) + 1
        chunk = ROWS[start:start + 10]
        return _json({"data": chunk, "has_more": start + 10 < len(ROWS)})
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "cursor", "cursor_from": "last_record",
                                              "cursor_field": "id",
                                              "cursor_param": "starting_after",
                                              "stop_field": "has_more", "page_size": 10},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))
    assert [r.args.get("starting_after") for r, _ in httpserver.log] == [None, "9", "19"]


def test_cursor_in_post_body(httpserver: HTTPServer, tap):
    bodies = []

    def handle(request: Request) -> Response:
        body = request.get_json()
        bodies.append(body)
        start = int(body.get("cursor", 0))
        nxt = str(start + 10) if start + 10 < len(ROWS) else None
        return _json({"results": ROWS[start:start + 10], "next_cursor": nxt})
    httpserver.expect_request("/search", method="POST").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/search"), method="POST",
                                  body={"filter": {"status": "active"}},
                                  pagination={"type": "cursor", "cursor_field": "next_cursor",
                                              "cursor_in": "body", "page_size": 10},
                                  response={"root_key": "results"})]})
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 23
    assert bodies[0] == {"filter": {"status": "active"}, "limit": 10}
    assert bodies[1] == {"filter": {"status": "active"}, "limit": 10, "cursor": "10"}
    assert all(r.content_type == "application/json" for r, _ in httpserver.log)


def test_next_link_relative_and_absolute_without_repeating_params(httpserver: HTTPServer, tap):
    base = httpserver.url_for("")

    def handle(request: Request) -> Response:
        page = int(request.args.get("page", 1))
        links = {1: "/rows?page=2", 2: f"{base.rstrip('/')}/rows?page=3", 3: None}
        return _json({"results": ROWS[(page - 1) * 10:page * 10], "next": links[page]})
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  params={"status": "active"},
                                  pagination={"type": "next_link", "link_field": "next"},
                                  response={"root_key": "results"})]})
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 23
    queries = [r.query_string.decode() for r, _ in httpserver.log]
    assert queries == ["status=active", "page=2", "page=3"]


def test_link_header(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        page = int(request.args.get("page", 1))
        headers = {"Link": f'<{httpserver.url_for("/rows")}?page={page + 1}>; rel="next"'} \
            if page < 3 else {}
        return _json(ROWS[(page - 1) * 10:page * 10], headers)
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "link_header"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(23))


def test_a_to_b_to_a_loop_is_an_error(httpserver: HTTPServer, tap):
    def handle(request: Request) -> Response:
        nxt = {None: "a", "a": "b", "b": "a"}[request.args.get("cursor")]
        return _json({"data": [{"id": 1}], "next": nxt})
    httpserver.expect_request("/rows").respond_with_handler(handle)
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "cursor", "cursor_field": "next"},
                                  response={"root_key": "data"})]})
    assert run.returncode != 0
    assert "pagination loop" in run.stderr
    assert [r.args.get("cursor") for r, _ in httpserver.log] == [None, "a", "b"]


def test_page_linking_to_itself_is_a_loop(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_json(
        {"data": [{"id": 1}], "next": httpserver.url_for("/rows")})
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "next_link"},
                                  response={"root_key": "data"})]})
    assert run.returncode != 0
    assert "pagination loop" in run.stderr
    assert len(httpserver.log) == 1


def test_max_pages_stops_with_a_warning(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(offset_handler())
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "offset", "page_size": 5, "max_pages": 2},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 10
    assert len(httpserver.log) == 2
    assert "max_pages = 2" in run.stderr
