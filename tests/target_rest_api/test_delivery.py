"""target-rest-api over real HTTP: batches, retries, 413 splitting, redirects, failures."""

from __future__ import annotations

import json
import socket
import struct
import time
from itertools import pairwise
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import RawServer, run_plugin
from tests.target_rest_api.conftest import (
    SinkServer,
    record_line,
    schema_line,
    singer_input,
    state_line,
)


def _run(sink: SinkServer, tmp_path: Path, stdin: str, **settings: object):
    config = {"url": sink.url(), "rate_limit": {"max_retries": 3}, **settings}
    return run_plugin("target-rest-api", config, tmp_path, stdin=stdin)


@pytest.mark.parametrize("count", [0, 1, 100, 101])
def test_records_arrive_in_batch_size_posts_in_order(sink: SinkServer, tmp_path: Path, count):
    result = _run(sink, tmp_path, singer_input("orders", range(count), state={"done": True}))

    assert result.returncode == 0, result.stderr.decode()
    expected_sizes = [100] * (count // 100) + ([count % 100] if count % 100 else [])
    assert [len(batch) for batch in sink.batches()] == expected_sizes
    assert sink.ids() == list(range(count))
    assert {r.method for r in sink.received} <= {"POST"}
    assert {r.path for r in sink.received} <= {"/in/orders"}
    assert result.stdout.decode().splitlines() == ['{"done": true}']


def test_ten_thousand_records_of_two_interleaved_streams(sink: SinkServer, tmp_path: Path):
    lines = [schema_line("a"), schema_line("b")]
    for i in range(5000):
        lines += [record_line("a", {"id": i}), record_line("b", {"id": i})]
    lines.append(state_line({"a": 4999, "b": 4999}))

    result = _run(sink, tmp_path, "\n".join(lines) + "\n")

    assert result.returncode == 0, result.stderr.decode()
    for path in ("/in/a", "/in/b"):
        assert [len(batch) for batch in sink.batches(path)] == [100] * 50
        assert sink.ids(path) == list(range(5000))
    keys = [r.headers["Idempotency-Key"] for r in sink.received]
    assert len(set(keys)) == len(keys) == 100
    assert result.stdout.decode().splitlines() == ['{"a": 4999, "b": 4999}']


def test_one_rate_limit_is_shared_by_all_streams(sink: SinkServer, tmp_path: Path):
    lines = [schema_line("a"), schema_line("b")]
    for i in range(6):
        lines += [record_line("a", {"id": i}), record_line("b", {"id": i})]

    result = _run(sink, tmp_path, "\n".join(lines) + "\n", batch_size=2,
                  rate_limit={"requests_per_second": 5})

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 6
    arrivals = [got.at for got in sink.received]
    gaps = [later - earlier for earlier, later in pairwise(arrivals)]
    assert min(gaps) > 0.15, gaps


def test_idempotency_keys_are_the_same_on_a_rerun_and_differ_for_other_data(
    sink: SinkServer, tmp_path: Path
):
    stdin = singer_input("orders", range(250))
    _run(sink, tmp_path, stdin, batch_size=100)
    _run(sink, tmp_path, stdin, batch_size=100)

    keys = [r.headers["Idempotency-Key"] for r in sink.received]
    assert keys[:3] == keys[3:]
    assert len(set(keys)) == 3

    _run(sink, tmp_path, singer_input("orders", range(1000, 1250)), batch_size=100)
    assert not set(keys) & {r.headers["Idempotency-Key"] for r in sink.received[6:]}


def test_method_wrap_key_headers_and_json_values(sink: SinkServer, tmp_path: Path):
    stdin = "\n".join([
        schema_line("events"),
        record_line("events", {"id": 1, "name": "x", "updated_at": "2025-01-02T03:04:05Z",
                               "score": 1.10}),
        '{"type": "RECORD", "stream": "events", "record": {"id": 2, '
        '"updated_at": "2025-01-02T03:04:05.5+02:00", "score": 12345678901234567890.5}}',
    ]) + "\n"

    result = _run(sink, tmp_path, stdin, method="PUT", wrap_key="items",
                  headers={"X-Tenant": "acme"}, url=sink.url("/v1/{stream}/bulk"))

    assert result.returncode == 0, result.stderr.decode()
    (request,) = sink.received
    assert (request.method, request.path) == ("PUT", "/v1/events/bulk")
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == (
        b'{"items":[{"id":1,"name":"x","updated_at":"2025-01-02T03:04:05Z","score":1.1},'
        b'{"id":2,"updated_at":"2025-01-02T03:04:05.500000+02:00",'
        b'"score":12345678901234567890.5}]}'
    )


def test_429_with_retry_after_waits_then_delivers(sink: SinkServer, tmp_path: Path):
    sink.then(Response("slow down", status=429, headers={"Retry-After": "1"}))

    result = _run(sink, tmp_path, singer_input("s", range(3)))

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 2
    assert sink.received[0].body == sink.received[1].body
    assert sink.ids() == [0, 1, 2, 0, 1, 2]
    assert "Retrying in 1.00 s" in result.stderr.decode()


def test_503_twice_then_200_sends_the_same_key_and_body(sink: SinkServer, tmp_path: Path):
    sink.then(Response(status=503), Response(status=503))

    result = _run(sink, tmp_path, singer_input("s", range(3)),
                  rate_limit={"max_retries": 3, "max_retry_wait": 0.2})

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 3
    assert len({r.headers["Idempotency-Key"] for r in sink.received}) == 1
    assert len({r.body for r in sink.received}) == 1


def _acknowledged_then_reset(conn: socket.socket) -> None:
    """A 200 whose body stops short of its Content-Length, then a TCP RST."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\"")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _acknowledged(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")


def test_a_truncated_response_is_retried_with_the_same_body_and_key(tmp_path: Path):
    server = RawServer([_acknowledged_then_reset, _acknowledged])
    result = run_plugin("target-rest-api", {"url": server.url("/in/{stream}")}, tmp_path,
                        stdin=singer_input("s", range(3), state={"done": True}))
    server.thread.join(timeout=10)

    assert result.returncode == 0, result.stderr.decode()
    assert "POST /in/s: the response body could not be read to the end" in result.stderr.decode()
    heads, bodies = zip(*(r.split(b"\r\n\r\n", 1) for r in server.requests), strict=True)
    keys = [line for head in heads for line in head.split(b"\r\n")
            if line.lower().startswith(b"idempotency-key:")]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert bodies[0] == bodies[1]
    assert [r["id"] for r in json.loads(bodies[0])] == [0, 1, 2]
    assert result.stdout.decode().splitlines() == ['{"done": true}']


def test_500_forever_fails_with_stream_range_status_and_body_and_no_state(
    sink: SinkServer, tmp_path: Path
):
    sink.default = lambda _: Response("x" * 600 + "TAIL", status=500)

    result = _run(sink, tmp_path, singer_input("s", range(3), state={"n": 3}),
                  rate_limit={"max_retries": 2, "max_retry_wait": 0.1})

    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert result.stdout == b""
    assert len(sink.received) == 3
    assert "records 0-2 of stream 's' not delivered: HTTP 500" in stderr
    assert "x" * 500 in stderr
    assert "TAIL" not in stderr


def test_413_splits_the_batch_in_halves_until_it_fits(sink: SinkServer, tmp_path: Path):
    sink.default = lambda got: Response(status=413 if len(got.json) > 2 else 200)

    result = _run(sink, tmp_path, singer_input("s", range(8)), batch_size=8)

    assert result.returncode == 0, result.stderr.decode()
    assert [len(batch) for batch in sink.batches()] == [8, 4, 2, 2, 4, 2, 2]
    delivered = [b for b in sink.batches() if len(b) <= 2]
    assert [r["id"] for batch in delivered for r in batch] == list(range(8))
    keys = [r.headers["Idempotency-Key"] for r in sink.received]
    assert len(set(keys)) == len(keys)


def test_single_record_still_413_fails_naming_its_key(sink: SinkServer, tmp_path: Path):
    sink.default = lambda got: Response(status=413 if any(r["id"] == 5 for r in got.json)
                                        else 200)

    result = _run(sink, tmp_path, singer_input("s", range(8)), batch_size=8)

    assert result.returncode != 0
    assert 'records 5-5 of stream \'s\' (key {"id":5}) not delivered: HTTP 413' in (
        result.stderr.decode()
    )


def test_redirect_is_not_followed(sink: SinkServer, tmp_path: Path):
    sink.then(Response(status=302, headers={"Location": sink.url("/elsewhere")}))

    result = _run(sink, tmp_path, singer_input("s", range(3), state={"n": 3}))

    assert result.returncode != 0
    assert [r.path for r in sink.received] == ["/in/s"]
    assert "HTTP 302" in result.stderr.decode()
    assert "/elsewhere not followed" in result.stderr.decode()
    assert result.stdout == b""


def test_dead_letter_mode_keeps_going_and_writes_the_failed_batch(
    sink: SinkServer, tmp_path: Path
):
    dead = tmp_path / "dead" / "letters.jsonl"
    sink.default = lambda got: Response("nope", status=422 if got.json[0]["id"] == 2 else 200)

    result = _run(sink, tmp_path, singer_input("s", range(6), state={"n": 6}),
                  batch_size=2, on_failure="dead_letter", dead_letter_path=str(dead))

    assert result.returncode == 0, result.stderr.decode()
    assert sink.ids() == [0, 1, 2, 3, 4, 5]
    lines = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(d["stream"], d["position"], d["record"]) for d in lines] == [
        ("s", 2, {"id": 2}), ("s", 3, {"id": 3})
    ]
    assert "HTTP 422" in lines[0]["error"]
    assert result.stdout.decode().splitlines() == ['{"n": 6}']
    assert f"2 record(s) written to {dead} (s: 2)" in result.stderr.decode()


def test_state_is_passed_on_as_soon_as_its_records_are_acknowledged(
    sink: SinkServer, tmp_path: Path
):
    stdin = "\n".join([
        schema_line("s"), record_line("s", {"id": 1}), state_line({"n": 1}),
        record_line("s", {"id": 2}), state_line({"n": 2}), record_line("s", {"id": 3}),
        state_line({"n": 3}),
    ]) + "\n"
    started = time.monotonic()

    result = _run(sink, tmp_path, stdin, batch_size=2)

    assert result.returncode == 0
    assert time.monotonic() - started < 60
    # {"n": 1} arrives while record 1 is buffered; {"n": 2} right after batch [1, 2] is acked.
    assert result.stdout.decode().splitlines() == ['{"n": 2}', '{"n": 3}']


def test_cookies_the_server_sets_go_with_later_batches(sink: SinkServer, tmp_path: Path):
    sticky = Response(status=200)
    sticky.set_cookie("route", "node-7")
    sink.then(sticky)

    result = _run(sink, tmp_path, singer_input("s", range(3)), batch_size=1)

    assert result.returncode == 0, result.stderr.decode()
    assert [r.headers.get("Cookie") for r in sink.received] == [None, "route=node-7",
                                                                 "route=node-7"]
    assert len({r.headers["Idempotency-Key"] for r in sink.received}) == 3
