"""Client-side incremental: an API that cannot filter (the tap drops what it already has) and
a newest-first feed (paging stops at the first page that reaches the bookmark)."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.tap.conftest import stream

FEED = [{"id": i, "updated_at": f"2025-03-{31 - i:02d}T12:00:00Z"} for i in range(1, 31)]
"""Newest first: id 1 is 2025-03-30, id 30 is 2025-03-01."""


def _paged(rows: list[dict]):
    def answer(request: Request) -> Response:
        page = int(request.args.get("page", 1))
        return Response(json.dumps({"items": rows[(page - 1) * 5:page * 5]}),
                        content_type="application/json")
    return answer


def _config(server: HTTPServer, **incremental: object) -> dict:
    return {"streams": [stream(
        "feed", server.url_for("/feed"), response={"root_key": "items"},
        pagination={"type": "page", "page_size": 5, "limit_param": None},
        schema=[{"name": "id", "type": "integer"}, {"name": "updated_at", "type": "string"}],
        incremental={"replication_key": "updated_at", **incremental})]}


def _state(tmp_path, value: str) -> str:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"bookmarks": {"feed": {
        "replication_key": "updated_at", "replication_key_value": value}}}))
    return str(path)


def _bookmark(run) -> str:
    return run.of_type("STATE")[-1]["value"]["bookmarks"]["feed"]["replication_key_value"]


def test_newest_first_stops_after_the_page_that_reaches_the_bookmark(httpserver: HTTPServer,
                                                                     tap, tmp_path):
    httpserver.expect_request("/feed").respond_with_handler(_paged(FEED))
    # the bookmark is id 13's time: page 3 (ids 11..15) reaches it
    run = tap(_config(httpserver, filter="client", order="descending"),
              "--state", _state(tmp_path, "2025-03-18T12:00:00Z"))

    assert run.returncode == 0, run.stderr
    assert [r.args["page"] for r, _ in httpserver.log] == ["1", "2", "3"]
    assert [r["id"] for r in run.records()] == list(range(1, 13))
    assert _bookmark(run) == "2025-03-30T12:00:00Z"  # the largest seen, not the last
    assert "page 3 reaches the bookmark" in run.stderr


def test_newest_first_with_concurrency_sends_nothing_past_the_bookmark(httpserver: HTTPServer,
                                                                       tap, tmp_path):
    httpserver.expect_request("/feed").respond_with_handler(_paged(FEED))
    config = _config(httpserver, filter="client", order="descending")
    config["streams"][0]["concurrency"] = 4
    run = tap(config, "--state", _state(tmp_path, "2025-03-28T12:00:00Z"))

    assert run.returncode == 0, run.stderr
    assert [r.args["page"] for r, _ in httpserver.log] == ["1"]
    assert [r["id"] for r in run.records()] == [1, 2]


def test_newest_first_without_a_bookmark_reads_the_whole_feed(httpserver: HTTPServer, tap):
    httpserver.expect_request("/feed").respond_with_handler(_paged(FEED))
    run = tap(_config(httpserver, filter="client", order="descending"))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(1, 31))
    assert _bookmark(run) == "2025-03-30T12:00:00Z"


def test_client_filter_drops_exactly_the_records_at_or_before_the_bookmark(
        httpserver: HTTPServer, tap, tmp_path):
    shuffled = [FEED[i] for i in (7, 2, 19, 12, 0, 25, 11, 4, 13, 29)]
    httpserver.expect_request("/feed").respond_with_handler(_paged(shuffled))
    bookmark = FEED[12]["updated_at"]  # id 13; ids 1..12 are newer

    run = tap(_config(httpserver, filter="client"), "--state", _state(tmp_path, bookmark))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [8, 3, 1, 12, 5]
    assert len(httpserver.log) == 3  # every page is read: the order is unknown
    assert "5 records at or before the bookmark dropped (client-side incremental)" in run.stderr
    assert _bookmark(run) == "2025-03-30T12:00:00Z"


def test_client_filter_keeps_the_bookmark_when_nothing_is_newer(httpserver: HTTPServer, tap,
                                                                tmp_path):
    httpserver.expect_request("/feed").respond_with_handler(_paged(FEED[5:]))
    run = tap(_config(httpserver, filter="client"),
              "--state", _state(tmp_path, FEED[2]["updated_at"]))

    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert _bookmark(run) == FEED[2]["updated_at"]


def test_client_filter_compares_instants_not_text(httpserver: HTTPServer, tap, tmp_path):
    rows = [{"id": 1, "updated_at": "2025-03-10T13:00:00+02:00"},  # 11:00Z: older
            {"id": 2, "updated_at": "2025-03-10T11:30:00Z"}]
    httpserver.expect_request("/feed").respond_with_json({"items": rows})
    run = tap(_config(httpserver, filter="client"),
              "--state", _state(tmp_path, "2025-03-10T11:15:00Z"))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [2]


def test_client_filter_needs_no_param_but_a_server_filter_does(httpserver: HTTPServer, tap):
    run = tap(_config(httpserver))
    assert run.returncode != 0
    assert "streams[0].incremental.param: required" in run.stderr
    assert httpserver.log == []


def test_newest_first_with_a_server_filter_drops_the_last_pages_older_part(
        httpserver: HTTPServer, tap, tmp_path):
    httpserver.expect_request("/feed").respond_with_handler(_paged(FEED))
    run = tap(_config(httpserver, param="since", order="descending"),
              "--state", _state(tmp_path, FEED[6]["updated_at"]))

    assert run.returncode == 0, run.stderr
    assert httpserver.log[0][0].args["since"] == FEED[6]["updated_at"]
    assert [r.args["page"] for r, _ in httpserver.log] == ["1", "2"]
    assert [r["id"] for r in run.records()] == [1, 2, 3, 4, 5, 6]
