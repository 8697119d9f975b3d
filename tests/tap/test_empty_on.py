"""``response.empty_on``: statuses that mean "no records" for one request instead of a failure."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from tests.tap.conftest import stream


def test_a_404_listed_in_empty_on_gives_zero_records_and_success(httpserver: HTTPServer, tap):
    httpserver.expect_request("/tickets/7/comments").respond_with_json(
        {"error": "ticket deleted"}, status=404)

    run = tap({"streams": [stream("comments", httpserver.url_for("/tickets/7/comments"),
                                  response={"empty_on": [404, 410]})]})

    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert len(httpserver.log) == 1
    assert run.stderr.count("Stream 'comments': HTTP 404 for GET /tickets/7/comments is in "
                            "response.empty_on: 0 records from this request") == 1


def test_without_empty_on_a_404_still_fails(httpserver: HTTPServer, tap):
    httpserver.expect_request("/tickets/7/comments").respond_with_json({}, status=404)

    run = tap({"streams": [stream("comments", httpserver.url_for("/tickets/7/comments"),
                                  response={"empty_on": [410]})]})

    assert run.returncode != 0
    assert "HTTP 404" in run.stderr
    assert run.records() == []


def test_an_empty_on_status_mid_pagination_ends_the_stream_with_the_pages_before(
    httpserver: HTTPServer, tap
):
    httpserver.expect_request("/rows", query_string="page=1").respond_with_json(
        [{"id": 1}, {"id": 2}])
    httpserver.expect_request("/rows", query_string="page=2").respond_with_data(
        "<html>gone</html>", status=410, headers={"Link": '</rows?page=3>; rel="next"'})

    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "page", "page_size": 2,
                                              "limit_param": None},
                                  schema=[{"name": "id", "type": "integer"}],
                                  response={"empty_on": [410]})]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2]
    assert len(httpserver.log) == 2


def test_empty_on_takes_only_error_statuses(httpserver: HTTPServer, tap):
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  response={"empty_on": [200]})]})

    assert run.returncode != 0
    assert "streams[0].response.empty_on[0]: 200 is less than the minimum of 400" in run.stderr
    assert httpserver.log == []
