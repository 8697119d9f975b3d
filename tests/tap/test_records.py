"""Where records are found in a response, and what is not a record."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from tests.tap.conftest import stream


def test_root_key_dot_path(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_json(
        {"response": {"body": {"items": [{"id": 1}, {"id": 2}]}}})
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  response={"root_key": "response.body.items"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}, {"id": 2}]


def test_list_body_is_the_records_and_object_body_is_one_record(httpserver: HTTPServer, tap):
    httpserver.expect_request("/list").respond_with_json([{"id": 1}, {"id": 2}])
    httpserver.expect_request("/one").respond_with_json({"id": 3, "name": "solo"})
    run = tap({"streams": [stream("list", httpserver.url_for("/list")),
                           stream("one", httpserver.url_for("/one"))]})
    assert run.returncode == 0, run.stderr
    assert run.records("list") == [{"id": 1}, {"id": 2}]
    assert run.records("one") == [{"id": 3, "name": "solo"}]


def test_missing_root_key_is_an_empty_page_with_a_warning(httpserver: HTTPServer, tap):
    httpserver.expect_request("/tweets").respond_with_json({"meta": {"result_count": 0}})
    run = tap({"streams": [stream("tweets", httpserver.url_for("/tweets"),
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert "root_key 'data' is missing or null" in run.stderr
    assert "the response has: meta" in run.stderr
    assert "'tweets', page 1" in run.stderr


def test_a_record_that_is_not_an_object_is_an_error(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_json({"data": [{"id": 1}, 42]})
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  response={"root_key": "data"})]})
    assert run.returncode != 0
    assert "stream 'x', page 1, record 1: expected a JSON object, got int" in run.stderr


def test_post_sends_the_json_body_and_params(httpserver: HTTPServer, tap):
    httpserver.expect_request("/q", method="POST", json={"query": {"a": [1, 2]}},
                              query_string="flag=true&tag=a&tag=b&n=3").respond_with_json(
        {"hits": [{"id": 1}]})
    run = tap({"streams": [stream("q", httpserver.url_for("/q"), method="POST",
                                  body={"query": {"a": [1, 2]}},
                                  params={"flag": True, "tag": ["a", "b"], "n": 3},
                                  response={"root_key": "hits"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]


def test_integers_beyond_64_bits_and_2_pow_53_stay_exact(httpserver: HTTPServer, tap):
    big = 2**53 + 1
    huge = 2**70 + 3
    httpserver.expect_request("/n").respond_with_data(
        f'[{{"id": {big}, "h": {huge}}}]', content_type="application/json")
    run = tap({"streams": [stream("n", httpserver.url_for("/n"))]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": big, "h": huge}]


def test_proxy_from_the_environment_is_used(httpserver: HTTPServer, tap, monkeypatch):
    """Proxies are read once per origin, but still read: HTTP_PROXY reaches the proxy."""
    httpserver.expect_request("/via-proxy").respond_with_json([{"id": 9}])
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    run = tap({"streams": [stream("p", "http://api.example.invalid/via-proxy")]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 9}]
    assert httpserver.log[0][0].headers["Host"] == "api.example.invalid"
