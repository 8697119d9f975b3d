"""``response.rules``: answers whose body says more than their status, against real
responses: retry, fail (quoting the body's error, redacted) and ignore."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import CANARY_TOKEN, assert_no_canary
from tests.tap.conftest import stream

RATE_LIMITED = {"when": {"status": 200, "field": "error.code", "equals": "RATE_LIMITED"},
                "then": "retry", "wait": 0}


def _scripted(*answers: tuple[int, object]):
    """Answers in order, the last one repeated."""
    calls = []

    def answer(request: Request) -> Response:
        calls.append(request)
        status, body = answers[min(len(calls), len(answers)) - 1]
        return Response(json.dumps(body), status=status, content_type="application/json")
    return answer


def _rows(server: HTTPServer, rules: list[dict], **settings: object) -> dict:
    return {"streams": [stream("rows", server.url_for("/rows"),
                               response={"root_key": "data", "rules": rules}, **settings)]}


def test_a_200_rate_limited_body_is_retried_then_succeeds(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(_scripted(
        (200, {"error": {"code": "RATE_LIMITED"}}), (200, {"error": {"code": "RATE_LIMITED"}}),
        (200, {"data": [{"id": 1}, {"id": 2}]})))

    run = tap(_rows(httpserver, [RATE_LIMITED]))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2]
    assert len(httpserver.log) == 3
    assert run.stderr.count("matches streams[0].response.rules[0] (retry)") == 2


def test_a_retry_rule_counts_against_max_retries(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(_scripted(
        (200, {"error": {"code": "RATE_LIMITED", "message": "slow down"}})))

    run = tap(_rows(httpserver, [RATE_LIMITED], rate_limit={"max_retries": 2}))

    assert run.returncode != 0
    assert len(httpserver.log) == 3
    assert ("HTTP 200 for GET /rows matches streams[0].response.rules[0] (retry): "
            '{"error": {"code": "RATE_LIMITED", "message": "slow down"}}') in run.stderr
    assert run.records() == []


def test_a_retry_rule_honours_retry_after(httpserver: HTTPServer, tap):
    calls = []

    def answer(request: Request) -> Response:
        calls.append(request)
        if len(calls) == 1:
            return Response(json.dumps({"status": "busy"}), headers={"Retry-After": "1"},
                            content_type="application/json")
        return Response(json.dumps({"data": [{"id": 7}]}), content_type="application/json")

    httpserver.expect_request("/rows").respond_with_handler(answer)
    rule = {"when": {"field": "status", "in": ["busy", "overloaded"]}, "then": "retry"}
    run = tap(_rows(httpserver, [rule]))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [7]
    assert "Retrying in 1.00 s" in run.stderr


def test_a_graphql_errors_body_fails_loudly_with_the_message(httpserver: HTTPServer, tap):
    errors = [{"message": f"Field 'secret' denied for token {CANARY_TOKEN}",
               "path": ["viewer", "secret"]}]
    httpserver.expect_request("/graphql", method="POST").respond_with_json(
        {"data": None, "errors": errors})

    run = tap({"streams": [stream(
        "viewer", httpserver.url_for("/graphql"), method="POST",
        body={"query": "{ viewer { login secret } }"}, auth={"type": "bearer",
                                                            "token": CANARY_TOKEN},
        response={"root_key": "data.viewer",
                  "rules": [{"when": {"status": 200, "field": "errors", "present": True},
                             "then": "fail"}]})]})

    assert run.returncode != 0
    assert len(httpserver.log) == 1
    assert ("HTTP 200 for POST /graphql matches streams[0].response.rules[0] (fail): "
            "[{\"message\": \"Field 'secret' denied for token ") in run.stderr
    assert_no_canary(run.stderr, json.dumps(run.messages))


def test_ignore_by_body_text_is_empty_while_other_404s_fail(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_data(
        '{"detail": "no such page"}', status=404, content_type="application/json")
    rule = {"when": {"status": 404, "body_contains": "no such page"}, "then": "ignore"}

    run = tap(_rows(httpserver, [rule]))

    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert ("Stream 'rows': HTTP 404 for GET /rows matches streams[0].response.rules[0] "
            "(ignore): 0 records from this request") in run.stderr

    httpserver.clear()
    httpserver.expect_request("/rows").respond_with_data('{"detail": "route unknown"}',
                                                         status=404)
    other = tap(_rows(httpserver, [rule]))
    assert other.returncode != 0
    assert "HTTP 404" in other.stderr


def test_ignore_mid_pagination_ends_the_pages_of_the_stream(httpserver: HTTPServer, tap):
    def answer(request: Request) -> Response:
        if request.args["page"] == "1":
            return Response(json.dumps({"data": [{"id": 1}, {"id": 2}]}),
                            content_type="application/json")
        return Response(json.dumps({"data": [], "warning": "END_OF_EXPORT"}),
                        content_type="application/json")

    httpserver.expect_request("/rows").respond_with_handler(answer)
    rule = {"when": {"field": "warning", "equals": "END_OF_EXPORT"}, "then": "ignore"}
    run = tap(_rows(httpserver, [rule], pagination={"type": "page", "page_size": 2,
                                                    "limit_param": None},
                    schema=[{"name": "id", "type": "integer"}]))

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2]
    assert len(httpserver.log) == 2


def test_the_first_matching_rule_wins_and_empty_on_comes_after(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_json({"error": "gone for good"},
                                                         status=410)
    rules = [{"when": {"status": [404, 410], "body_contains": "for good"}, "then": "fail"},
             {"when": {"status": 410}, "then": "ignore"}]
    settings = _rows(httpserver, rules)
    settings["streams"][0]["response"]["empty_on"] = [410]

    run = tap(settings)

    assert run.returncode != 0
    assert ("matches streams[0].response.rules[0] (fail): "
            '{"error": "gone for good"}') in run.stderr


@pytest.mark.parametrize(("rule", "expected"), [
    ({"when": {"status": 200}, "then": "explode"},
     "streams[0].response.rules[0].then: 'explode' is not one of"),
    ({"when": {"field": "error"}, "then": "fail"},
     "streams[0].response.rules[0].when: `field` takes exactly one of equals, in, present"),
    ({"when": {"equals": 3}, "then": "fail"},
     "streams[0].response.rules[0].when.equals: needs `field`"),
    ({"when": {"status": 200}, "then": "fail", "wait": 5},
     "streams[0].response.rules[0].wait: expected seconds (a number of at least 0) on a "
     "retry rule"),
])
def test_rule_mistakes_are_named_before_any_request(httpserver: HTTPServer, tap, rule,
                                                    expected):
    run = tap(_rows(httpserver, [rule]))
    assert run.returncode != 0
    assert expected in run.stderr
    assert httpserver.log == []
