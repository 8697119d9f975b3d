"""Secrets never reach stdout, stderr or logs, even inside requests' own error texts."""

from __future__ import annotations

import socket

from pytest_httpserver import HTTPServer

from tests.conftest import CANARY_KEY, CANARY_PASSWORD, CANARY_TOKEN, CANARY_USER
from tests.tap.conftest import stream


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_error_text_with_api_key_in_url_is_redacted(tap):
    url = f"http://127.0.0.1:{_closed_port()}/v1/items"
    run = tap({"streams": [stream("x", url, rate_limit={"max_retries": 1},
                                  auth={"type": "api_key", "param": "api_key",
                                        "key": CANARY_KEY})]})
    # run_plugin has already failed the test if the canary appeared anywhere.
    assert run.returncode != 0
    assert "Connection refused" in run.stderr or "ConnectionError" in run.stderr
    assert "***" in run.stderr


def test_error_body_echoing_the_token_is_redacted(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_data(
        f"invalid token {CANARY_TOKEN} for user", status=401)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  auth={"type": "bearer", "token": CANARY_TOKEN})]})
    assert run.returncode != 0
    assert "HTTP 401" in run.stderr and "invalid token *** for user" in run.stderr


def test_basic_auth_never_logged_even_at_debug(httpserver: HTTPServer, tap, tmp_path,
                                               monkeypatch):
    monkeypatch.setenv("LOGLEVEL", "DEBUG")
    httpserver.expect_request("/x").respond_with_json([{"id": 1}])
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), auth={
        "type": "basic", "username": CANARY_USER, "password": CANARY_PASSWORD})]})
    assert run.returncode == 0, run.stderr
    assert "DEBUG" in run.stderr
