"""Retries, Retry-After, fatal statuses and the shared rate limiter, over real HTTP."""

from __future__ import annotations

import email.utils
import itertools
import json
import socket
import time

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import CANARY_KEY, RawServer
from tests.tap.conftest import stream


def _sequence(*responses: Response):
    """A handler answering with ``responses`` in turn, then repeating the last."""
    served = iter(responses)
    last: list[Response] = []

    def handle(request: Request) -> Response:
        last[:] = [next(served, last[0] if last else None)]
        return last[0]
    return handle


OK = Response(json.dumps([{"id": 1}]), content_type="application/json")


def _times(server: HTTPServer) -> list[float]:
    return [float(r.headers["X-Sent"]) for r, _ in server.log if "X-Sent" in r.headers]


def test_429_with_retry_after_seconds_is_honoured(httpserver: HTTPServer, tap):
    stamps: list[float] = []

    def handle(request: Request) -> Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return OK
    httpserver.expect_request("/x").respond_with_handler(handle)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert stamps[1] - stamps[0] >= 0.95
    assert "Retrying in 1.00 s" in run.stderr


def test_retry_after_http_date_is_honoured(httpserver: HTTPServer, tap):
    stamps: list[float] = []

    def handle(request: Request) -> Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return Response("busy", status=503, headers={"Retry-After": when})
        return OK
    httpserver.expect_request("/x").respond_with_handler(handle)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode == 0, run.stderr
    assert stamps[1] - stamps[0] >= 0.9  # HTTP-dates have one-second resolution


def test_retry_after_longer_than_max_retry_wait_fails_clearly(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_data("no", status=429,
                                                      headers={"Retry-After": "3600"})
    started = time.monotonic()
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  rate_limit={"max_retry_wait": 5})]})
    assert run.returncode != 0
    assert time.monotonic() - started < 30
    assert "asked to wait 3600 s" in run.stderr
    assert "max_retry_wait = 5 s" in run.stderr


def test_5xx_twice_then_success_with_backoff(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_handler(_sequence(
        Response("oops", status=502), Response("oops", status=503), OK))
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert len(httpserver.log) == 3


def test_retries_are_bounded_by_max_retries(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_data("down", status=503)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  rate_limit={"max_retries": 2})]})
    assert run.returncode != 0
    assert len(httpserver.log) == 3
    assert "HTTP 503" in run.stderr


def test_status_not_in_retry_on_fails_at_once_without_query_or_secret(httpserver: HTTPServer, tap):
    httpserver.expect_request("/v1/things").respond_with_data("not here", status=404)
    run = tap({"streams": [stream("x", httpserver.url_for("/v1/things"),
                                  params={"since": "2025-01-01"},
                                  auth={"type": "api_key", "param": "k", "key": CANARY_KEY})]})
    assert run.returncode != 0
    assert len(httpserver.log) == 1
    assert "HTTP 404 NOT FOUND for GET /v1/things: not here" in run.stderr
    assert "since=" not in run.stderr


def test_custom_retry_on_retries_a_409(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_handler(_sequence(
        Response("conflict", status=409), OK))
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  rate_limit={"retry_on": [409]})]})
    assert run.returncode == 0, run.stderr
    assert len(httpserver.log) == 2


def test_truncated_json_body_is_retried(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_handler(_sequence(
        Response('[{"id": 1', content_type="application/json"), OK))
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert len(httpserver.log) == 2


def test_connection_dropped_mid_response_is_retried(tap):
    """A raw socket server: the first connection is closed before any answer."""
    body = b'[{"id": 5}]'

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))

    server = RawServer([socket.socket.close, answer])
    run = tap({"streams": [stream("x", server.url("/x"))]})
    server.thread.join(timeout=10)
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 5}]
    assert len(server.requests) == 2


def test_requests_per_second_spaces_requests_across_streams(httpserver: HTTPServer, tap):
    stamps: list[float] = []

    def handle(request: Request) -> Response:
        stamps.append(time.monotonic())
        page = int(request.args.get("page", 1))
        nxt = f"{request.path}?page={page + 1}" if page < 4 else None
        return Response(json.dumps({"data": [{"id": page}], "next": nxt}),
                        content_type="application/json")
    httpserver.expect_request("/a").respond_with_handler(handle)
    httpserver.expect_request("/b").respond_with_handler(handle)
    settings = {"pagination": {"type": "next_link"}, "response": {"root_key": "data"},
                "rate_limit": {"requests_per_second": 4}}
    run = tap({"streams": [stream("a", httpserver.url_for("/a"), **settings),
                           stream("b", httpserver.url_for("/b"), **settings)]})
    assert run.returncode == 0, run.stderr
    assert len(stamps) == 8
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.24, gaps  # 4/s with no burst: 250 ms apart, across both streams
    for start in range(len(stamps) - 4):
        assert stamps[start + 4] - stamps[start] >= 0.99  # never 5 in one second
