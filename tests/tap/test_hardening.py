"""Slow servers, rate-limit headers, oversized and hostile bodies (issue 6, HTTP layer)."""

from __future__ import annotations

import json
import socket
import time
import zlib
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import BIN, RawServer, assert_no_canary, run_with_peak_rss
from tests.tap.conftest import stream

BODY = json.dumps([{"id": 1}]).encode()


def _drip(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n")
    for _ in range(40):  # one byte every 0.25 s: a read timeout would never fire
        conn.sendall(b" ")
        time.sleep(0.25)


def _fast(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY))


def test_slow_drip_is_cut_at_the_deadline_and_retried(tap):
    server = RawServer([_drip, _fast])
    stamps = server.stamps
    started = time.monotonic()
    run = tap({"streams": [stream("x", server.url("/x"), timeout=2)]})
    server.thread.join(timeout=15)
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert len(stamps) == 2
    assert 1.9 <= stamps[1] - stamps[0] < 6, stamps
    assert "2 s deadline" in run.stderr
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("headers", [
    {"RateLimit": '"default";r=0;t=2', "RateLimit-Policy": '"default";q=100;w=60'},
    {"RateLimit-Remaining": "0", "RateLimit-Reset": "2"},
    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "{epoch}"},
])
def test_rate_limit_headers_pause_the_next_request_without_a_429(
    httpserver: HTTPServer, tap, headers
):
    stamps: list[float] = []

    def handle(request: Request) -> Response:
        stamps.append(time.monotonic())
        page = int(request.args.get("page", 1))
        answer = {k: v.replace("{epoch}", str(int(time.time()) + 2)) for k, v in headers.items()}
        nxt = "/x?page=2" if page == 1 else None
        return Response(json.dumps({"data": [{"id": page}], "next": nxt}),
                        headers=answer if page == 1 else {}, content_type="application/json")
    httpserver.expect_request("/x").respond_with_handler(handle)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), pagination={"type": "next_link"},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2]
    assert all(status == 200 for _, status in [(r, s.status_code) for r, s in httpserver.log])
    assert stamps[1] - stamps[0] >= 0.95, stamps  # epoch resets have one-second resolution
    assert "Rate limit reached" in run.stderr


def test_rate_limit_pause_is_capped_by_max_retry_wait(httpserver: HTTPServer, tap):
    stamps: list[float] = []

    def handle(request: Request) -> Response:
        stamps.append(time.monotonic())
        page = int(request.args.get("page", 1))
        return Response(json.dumps({"data": [{"id": page}],
                                    "next": "/x?page=2" if page == 1 else None}),
                        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"},
                        content_type="application/json")
    httpserver.expect_request("/x").respond_with_handler(handle)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), pagination={"type": "next_link"},
                                  response={"root_key": "data"},
                                  rate_limit={"max_retry_wait": 1})]})
    assert run.returncode == 0, run.stderr
    assert 0.95 <= stamps[1] - stamps[0] < 5


def test_403_with_no_remaining_quota_is_a_rate_limit_and_recovers(httpserver: HTTPServer, tap):
    calls: list[float] = []

    def handle(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Response("API rate limit exceeded", status=403,
                            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"})
        return Response(BODY, content_type="application/json")
    httpserver.expect_request("/x").respond_with_handler(handle)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert calls[1] - calls[0] >= 0.95


def test_plain_403_is_still_fatal(httpserver: HTTPServer, tap):
    httpserver.expect_request("/x").respond_with_data("forbidden", status=403)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"))]})
    assert run.returncode != 0
    assert len(httpserver.log) == 1
    assert "HTTP 403" in run.stderr


def _run_measured(config: dict, tmp_path: Path) -> tuple[int, str, int]:
    """Run the tap; return exit status, stderr and its own peak RSS in KiB."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result, peak_kib = run_with_peak_rss([str(BIN / "tap-rest-api"), "--config", str(path)])
    assert_no_canary(result.stdout, result.stderr)
    return result.returncode, result.stderr.decode(), peak_kib


def test_announced_oversize_body_fails_before_reading(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/x").respond_with_data(b"[" + b" " * 3_000_000 + b"]",
                                                      content_type="application/json")
    code, stderr, _ = _run_measured({"max_response_bytes": 1_000_000, "streams": [
        stream("x", httpserver.url_for("/x"))]}, tmp_path)
    assert code != 0
    assert "announces 3000002 bytes" in stderr and "max_response_bytes = 1000000" in stderr


def _gzip_of_spaces(size: int) -> bytes:
    """A gzip body inflating to ``size`` bytes, built without holding them (the tap is forked
    from this process, and a forked child starts out with the parent's memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * 1_000_000
    parts = [packer.compress(b"[")]
    parts += [packer.compress(block) for _ in range(size // len(block))]
    parts += [packer.compress(b"]"), packer.flush()]
    return b"".join(parts)


def test_gzip_bomb_fails_with_bounded_memory(httpserver: HTTPServer, tmp_path):
    bomb = _gzip_of_spaces(400_000_000)  # ~400 KB on the wire
    httpserver.expect_request("/x").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    code, stderr, peak_kib = _run_measured({"max_response_bytes": 5_000_000, "streams": [
        stream("x", httpserver.url_for("/x"))]}, tmp_path)
    assert code != 0
    assert "is larger than max_response_bytes = 5000000" in stderr
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib} KiB: the bomb was inflated in memory"
