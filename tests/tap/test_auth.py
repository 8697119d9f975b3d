"""Each auth form on the SDK's authenticators, and credentials kept to their own origin."""

from __future__ import annotations

import base64

from pytest_httpserver import HTTPServer

from tests.conftest import CANARY_KEY, CANARY_PASSWORD, CANARY_TOKEN, CANARY_USER
from tests.tap.conftest import stream


def _one_page(server: HTTPServer) -> None:
    server.expect_request("/me").respond_with_json([{"id": 1}])


def test_bearer(httpserver: HTTPServer, tap):
    _one_page(httpserver)
    run = tap({"streams": [stream("me", httpserver.url_for("/me"),
                                  auth={"type": "bearer", "token": CANARY_TOKEN})]})
    assert run.returncode == 0, run.stderr
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"


def test_api_key_in_header(httpserver: HTTPServer, tap):
    _one_page(httpserver)
    run = tap({"streams": [stream("me", httpserver.url_for("/me"), auth={
        "type": "api_key", "header": "X-Api-Key", "key": CANARY_KEY})]})
    assert run.returncode == 0, run.stderr
    assert httpserver.log[0][0].headers["X-Api-Key"] == CANARY_KEY


def test_api_key_in_query_param(httpserver: HTTPServer, tap):
    _one_page(httpserver)
    run = tap({"streams": [stream("me", httpserver.url_for("/me"), params={"q": "x"}, auth={
        "type": "api_key", "param": "api_key", "key": CANARY_KEY})]})
    assert run.returncode == 0, run.stderr
    assert httpserver.log[0][0].args.to_dict() == {"q": "x", "api_key": CANARY_KEY}


def test_basic_with_password(httpserver: HTTPServer, tap):
    _one_page(httpserver)
    run = tap({"streams": [stream("me", httpserver.url_for("/me"), auth={
        "type": "basic", "username": CANARY_USER, "password": CANARY_PASSWORD})]})
    assert run.returncode == 0, run.stderr
    expected = base64.b64encode(f"{CANARY_USER}:{CANARY_PASSWORD}".encode()).decode()
    assert httpserver.log[0][0].headers["Authorization"] == f"Basic {expected}"


def test_basic_with_key_as_username_and_no_password(httpserver: HTTPServer, tap):
    _one_page(httpserver)
    run = tap({"streams": [stream("me", httpserver.url_for("/me"), auth={
        "type": "basic", "username": CANARY_USER})]})
    assert run.returncode == 0, run.stderr
    expected = base64.b64encode(f"{CANARY_USER}:".encode()).decode()
    assert httpserver.log[0][0].headers["Authorization"] == f"Basic {expected}"


def test_top_level_auth_is_inherited_and_stream_auth_overrides(httpserver: HTTPServer, tap):
    httpserver.expect_request("/a").respond_with_json([{"id": 1}])
    httpserver.expect_request("/b").respond_with_json([{"id": 2}])
    run = tap({
        "auth": {"type": "bearer", "token": CANARY_TOKEN},
        "headers": {"X-Tenant": "acme"},
        "streams": [
            stream("a", httpserver.url_for("/a")),
            stream("b", httpserver.url_for("/b"), headers={"X-Tenant": "other"},
                   auth={"type": "api_key", "header": "X-Api-Key", "key": CANARY_KEY}),
        ],
    })
    assert run.returncode == 0, run.stderr
    by_path = {r.path: r for r, _ in httpserver.log}
    assert by_path["/a"].headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert by_path["/a"].headers["X-Tenant"] == "acme"
    assert "Authorization" not in by_path["/b"].headers
    assert by_path["/b"].headers["X-Api-Key"] == CANARY_KEY
    assert by_path["/b"].headers["X-Tenant"] == "other"


def test_next_link_to_another_origin_gets_no_credentials(
    httpserver: HTTPServer, other_server: HTTPServer, tap
):
    httpserver.expect_request("/rows").respond_with_json(
        {"data": [{"id": 1}], "next": other_server.url_for("/more")})
    other_server.expect_request("/more").respond_with_json({"data": [{"id": 2}], "next": None})
    run = tap({"streams": [stream("rows", httpserver.url_for("/rows"),
                                  pagination={"type": "next_link"},
                                  response={"root_key": "data"},
                                  headers={"X-Trace": "t1"},
                                  auth={"type": "api_key", "param": "key", "key": CANARY_KEY})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2]
    assert httpserver.log[0][0].args["key"] == CANARY_KEY
    foreign = other_server.log[0][0]
    assert "key" not in foreign.args
    assert foreign.headers["X-Trace"] == "t1"


def test_redirect_to_another_origin_drops_credential_headers(
    httpserver: HTTPServer, other_server: HTTPServer, tap
):
    httpserver.expect_request("/me").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for("/elsewhere")})
    other_server.expect_request("/elsewhere").respond_with_json([{"id": 7}])
    run = tap({"streams": [stream("me", httpserver.url_for("/me"), auth={
        "type": "api_key", "header": "X-Api-Key", "key": CANARY_KEY})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 7}]
    assert httpserver.log[0][0].headers["X-Api-Key"] == CANARY_KEY
    assert "X-Api-Key" not in other_server.log[0][0].headers


def test_redirect_within_the_origin_keeps_credentials(httpserver: HTTPServer, tap):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_json([{"id": 8}])
    run = tap({"streams": [stream("me", httpserver.url_for("/old"), auth={
        "type": "bearer", "token": CANARY_TOKEN})]})
    assert run.returncode == 0, run.stderr
    assert httpserver.log[1][0].headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
