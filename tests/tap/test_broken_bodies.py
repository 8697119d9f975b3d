"""Response bodies that break off mid-transfer are retried (issue 10), over raw sockets."""

from __future__ import annotations

import gzip
import json
import socket
import struct
from collections.abc import Callable

import pytest

from tests.conftest import RawServer
from tests.tap.conftest import stream

JSON = b"Content-Type: application/json\r\n"
PAGE_1 = json.dumps({"items": [{"id": 1}, {"id": 2}], "next": "/x?page=2"}).encode()
PAGE_2 = json.dumps({"items": [{"id": 3}, {"id": 4}, {"id": 5, "pad": "p" * 4000}],
                     "next": None}).encode()


def _complete(body: bytes) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))
    return answer


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _longer_than_sent_then_reset(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Length: %d\r\n\r\n%s"
                 % (len(PAGE_2) + 10_000, PAGE_2[:3000]))
    _reset(conn)


def _longer_than_sent_then_closed(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Length: %d\r\n\r\n%s"
                 % (len(PAGE_2) + 10_000, PAGE_2[:3000]))


def _chunked_cut_mid_chunk(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Transfer-Encoding: chunked\r\n\r\n"
                 b"%x\r\n%s" % (len(PAGE_2), PAGE_2[:3000]))


def _gzip_cut_in_half(conn: socket.socket) -> None:
    packed = gzip.compress(PAGE_2)
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Encoding: gzip\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(packed), packed[: len(packed) // 2]))


def _gzip_garbled(conn: socket.socket) -> None:
    packed = gzip.compress(PAGE_2)
    garbled = packed[:10] + b"\xff" * (len(packed) - 10)
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"Content-Encoding: gzip\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(garbled), garbled))


_held: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_held_connections():
    yield
    while _held:
        _held.pop().close()


def _silent_mid_body(conn: socket.socket) -> None:
    """Send part of the body, then nothing, keeping the connection open (a read timeout)."""
    _longer_than_sent_then_closed(conn)
    _held.append(conn.dup())


BROKEN = {
    "content-length-then-reset": _longer_than_sent_then_reset,
    "content-length-then-close": _longer_than_sent_then_closed,
    "chunked-cut-mid-chunk": _chunked_cut_mid_chunk,
    "gzip-cut-in-half": _gzip_cut_in_half,
    "gzip-garbled": _gzip_garbled,
    "silent-mid-body": _silent_mid_body,
}


EXPECTED = {
    "content-length-then-reset": "Connection broken: ConnectionResetError",
    "content-length-then-close": "Connection broken: IncompleteRead",
    "chunked-cut-mid-chunk": "Connection broken: IncompleteRead",
    "gzip-cut-in-half": "Connection broken: IncompleteRead",
    "gzip-garbled": "Received response with content-encoding: gzip, but failed to decode it",
    "silent-mid-body": "HTTPConnectionPool(host='127.0.0.1', port=",
}
"""The start of the urllib3 reason each fault provokes, as the retry log quotes it."""


def _paged(url: str, **settings: object) -> dict:
    return {"streams": [stream("x", url, pagination={"type": "next_link"}, timeout=1,
                               response={"root_key": "items"}, **settings)]}


@pytest.mark.parametrize("fault", list(BROKEN))
def test_a_body_broken_once_is_retried_and_every_record_arrives_once(tap, fault):
    server = RawServer([_complete(PAGE_1), BROKEN[fault], _complete(PAGE_2)])
    run = tap(_paged(server.url("/x")))
    server.thread.join(timeout=10)
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2, 3, 4, 5]
    assert [r.split(b" ")[1] for r in server.requests] == [b"/x", b"/x?page=2", b"/x?page=2"]
    assert "Retrying in" in run.stderr
    assert "GET /x: the response body could not be read to the end" in run.stderr
    assert f"({EXPECTED[fault]}" in run.stderr


@pytest.mark.parametrize("fault", ["content-length-then-reset", "gzip-garbled"])
def test_a_body_always_broken_fails_after_max_retries_naming_the_request(tap, fault):
    server = RawServer([BROKEN[fault]] * 3)
    run = tap(_paged(server.url("/x"), params={"since": "2025-01-01"},
                     rate_limit={"max_retries": 2}))
    server.thread.join(timeout=10)
    assert run.returncode != 0
    assert run.records() == []
    assert len(server.requests) == 3
    assert "GET /x: the response body could not be read to the end" in run.stderr
    assert "since=" not in run.stderr
