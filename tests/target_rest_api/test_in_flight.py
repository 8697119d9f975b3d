"""max_in_flight over real HTTP (a threaded sink server): STATE behind a watermark of
acknowledged batches, every record once, 413 splitting, failures, dead letters, the bound on
requests at once, and SIGTERM with requests in flight."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import CANARY_TOKEN, assert_drain_gave_up, run_plugin
from tests.target_rest_api.conftest import (
    Received,
    RunningTarget,
    SinkServer,
    record_line,
    schema_line,
    singer_input,
    state_line,
)

WAIT = 10.0
"""Seconds a test waits at most for something the target must do."""


def _config(sink: SinkServer, max_in_flight: int, **extra: object) -> dict:
    return {"url": sink.url(), "max_in_flight": max_in_flight, "batch_size": 2,
            "auth": {"type": "bearer", "token": CANARY_TOKEN},
            "rate_limit": {"max_retries": 0}, **extra}


def _run(sink: SinkServer, tmp_path: Path, stdin: str, max_in_flight: int, **extra: object):
    return run_plugin("target-rest-api", _config(sink, max_in_flight, **extra), tmp_path,
                      stdin=stdin)


def _first_id(got: Received) -> int:
    return got.json[0]["id"]  # type: ignore[index]


def _batches_with_states(stream: str, count: int, size: int = 2) -> str:
    """SCHEMA, then ``count`` records, a STATE {"n": records so far} after every ``size``."""
    lines = [schema_line(stream)]
    for i in range(count):
        lines.append(record_line(stream, {"id": i}))
        if (i + 1) % size == 0:
            lines.append(state_line({"n": i + 1}))
    return "\n".join(lines) + "\n"


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_state_waits_for_a_slow_earlier_batch_answered_after_a_later_one(
    threaded_sink: SinkServer, tmp_path: Path
):
    events: list[tuple[str, object]] = []
    release = threading.Event()

    def answer(got: Received) -> Response:
        if _first_id(got) == 2:  # batch 2 of 3 is slow
            release.wait(WAIT)
        events.append(("acknowledged", _first_id(got)))
        return Response(status=200)

    threaded_sink.default = answer
    target = RunningTarget(_config(threaded_sink, 3), tmp_path)

    def read_states() -> None:
        while line := target.read_line():
            events.append(("STATE", json.loads(line)["n"]))

    reader = threading.Thread(target=read_states, daemon=True)
    reader.start()
    target.write(*_batches_with_states("s", 6).splitlines())
    _wait_for(lambda: ("acknowledged", 4) in events and ("STATE", 2) in events,
              "batch 3 acknowledged and STATE 2")
    time.sleep(0.3)  # room for a STATE that would run ahead of batch 2
    events.append(("released", 2))
    release.set()
    _wait_for(lambda: ("STATE", 6) in events, "STATE 6")
    returncode, _, stderr = target.finish(end_input=True)
    reader.join(WAIT)

    assert returncode == 0, stderr
    assert [n for kind, n in events if kind == "STATE"] == [2, 6]
    order = events.index
    assert order(("acknowledged", 0)) < order(("STATE", 2))
    assert order(("acknowledged", 4)) < order(("released", 2))
    assert (order(("released", 2)) < order(("acknowledged", 2)) < order(("STATE", 6)))
    assert sorted(threaded_sink.ids()) == list(range(6))


def test_every_record_arrives_exactly_once_with_eight_in_flight(
    threaded_sink: SinkServer, tmp_path: Path
):
    def answer(got: Received) -> Response:
        time.sleep(0.002 * (_first_id(got) % 7))  # answers come back out of order
        return Response(status=200)

    threaded_sink.default = answer
    lines = [schema_line("a"), schema_line("b")]
    for i in range(3000):
        lines.append(record_line("a" if i % 3 else "b", {"id": i}))
    lines.append(state_line({"done": True}))

    result = _run(threaded_sink, tmp_path, "\n".join(lines) + "\n", 8, batch_size=25)

    assert result.returncode == 0, result.stderr.decode()
    counts = Counter(threaded_sink.ids())
    assert sorted(counts) == list(range(3000))
    assert set(counts.values()) == {1}
    assert sorted(threaded_sink.ids("/in/b")) == list(range(0, 3000, 3))
    assert 1 < threaded_sink.peak_in_flight <= 8
    keys = [r.headers["Idempotency-Key"] for r in threaded_sink.received]
    assert len(set(keys)) == len(keys)
    assert result.stdout.decode().splitlines() == ['{"done": true}']


@pytest.mark.parametrize("max_in_flight", [3, 12])
def test_never_more_requests_at_once_than_max_in_flight(
    threaded_sink: SinkServer, tmp_path: Path, max_in_flight: int
):
    def answer(_: Received) -> Response:
        time.sleep(0.1)
        return Response(status=200)

    threaded_sink.default = answer
    count = 8 * max_in_flight

    result = _run(threaded_sink, tmp_path, singer_input("s", range(count), state={"n": 1}),
                  max_in_flight)

    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert threaded_sink.peak_in_flight == max_in_flight
    assert sorted(threaded_sink.ids()) == list(range(count))
    assert result.stdout.decode().splitlines() == ['{"n": 1}']
    assert "Connection pool is full" not in stderr  # more threads than requests' 10 connections


def test_one_rate_limit_holds_every_thread(threaded_sink: SinkServer, tmp_path: Path):
    def answer(_: Received) -> Response:
        time.sleep(0.3)  # all four slots would start at once without the limiter
        return Response(status=200)

    threaded_sink.default = answer

    result = _run(threaded_sink, tmp_path, singer_input("s", range(16)), 4,
                  rate_limit={"requests_per_second": 10})

    assert result.returncode == 0, result.stderr.decode()
    arrivals = sorted(got.at for got in threaded_sink.received)
    gaps = [later - earlier for earlier, later in pairwise(arrivals)]
    assert len(arrivals) == 8
    assert min(gaps) > 0.07, gaps
    assert threaded_sink.peak_in_flight > 1


def test_413_splits_batches_in_flight_and_delivers_each_record_once(
    threaded_sink: SinkServer, tmp_path: Path
):
    threaded_sink.default = lambda got: Response(status=413 if len(got.json) > 2 else 200)

    result = _run(threaded_sink, tmp_path, singer_input("s", range(32), state={"n": 32}), 4,
                  batch_size=8)

    assert result.returncode == 0, result.stderr.decode()
    accepted = [batch for batch in threaded_sink.batches() if len(batch) <= 2]
    assert sorted(r["id"] for batch in accepted for r in batch) == list(range(32))
    assert Counter(len(batch) for batch in threaded_sink.batches()) == {8: 4, 4: 8, 2: 16}
    keys = [r.headers["Idempotency-Key"] for r in threaded_sink.received]
    assert len(set(keys)) == len(keys)
    assert result.stdout.decode().splitlines() == ['{"n": 32}']


def test_a_failing_batch_stops_the_run_with_no_state_past_it(
    threaded_sink: SinkServer, tmp_path: Path
):
    def answer(got: Received) -> Response:
        first = _first_id(got)
        if first == 8:  # the first failure
            time.sleep(0.2)
            return Response("broken", status=500)
        if first == 10:  # in flight beside it, fails later
            time.sleep(0.4)
            return Response("also broken", status=500)
        return Response(status=200)

    threaded_sink.default = answer

    result = _run(threaded_sink, tmp_path, _batches_with_states("s", 2000), 4)

    stderr = result.stderr.decode()
    assert result.returncode not in (0, 143), stderr
    states = [json.loads(line)["n"] for line in result.stdout.decode().splitlines()]
    assert states and states[-1] == 8, stderr  # records 0-7 acknowledged, 8-9 never
    assert "Also failed while stopping: records 10-11 of stream 's' not delivered" in stderr
    assert stderr.rindex("records 8-9 of stream 's' not delivered: HTTP 500") > stderr.index(
        "Also failed while stopping")  # the first failure is the one reported last, as cause
    assert len(threaded_sink.received) < 1000  # reading stopped at the failure


def test_dead_letters_with_batches_in_flight(threaded_sink: SinkServer, tmp_path: Path):
    dead = tmp_path / "dead.jsonl"

    def answer(got: Received) -> Response:
        time.sleep(0.01)
        return Response("nope", status=422 if _first_id(got) % 10 == 4 else 200)

    threaded_sink.default = answer

    result = _run(threaded_sink, tmp_path, _batches_with_states("s", 40), 4,
                  on_failure="dead_letter", dead_letter_path=str(dead))

    assert result.returncode == 0, result.stderr.decode()
    assert sorted(threaded_sink.ids()) == list(range(40))
    lines = [json.loads(line) for line in dead.read_text().splitlines()]
    assert sorted(d["position"] for d in lines) == [4, 5, 14, 15, 24, 25, 34, 35]
    assert all(d["record"]["id"] == d["position"] and "HTTP 422" in d["error"] for d in lines)
    states = [json.loads(line)["n"] for line in result.stdout.decode().splitlines()]
    assert states == sorted(states) and states[-1] == 40
    assert f"8 record(s) written to {dead} (s: 8)" in result.stderr.decode()


def test_sigterm_with_requests_in_flight_delivers_them_and_exits_143(
    threaded_sink: SinkServer, tmp_path: Path
):
    release = threading.Event()

    def hold(_: Received) -> Response:
        release.wait(WAIT)
        return Response(status=200)

    threaded_sink.default = hold
    target = RunningTarget(_config(threaded_sink, 3), tmp_path)
    target.wait_ready()
    # Batches 1-3 fill every slot; the reader blocks handing over batch 4 (records 6-7),
    # before it reads STATE 8 and record 8.
    target.write(schema_line("s"), record_line("s", {"id": 0}), record_line("s", {"id": 1}),
                 state_line({"n": 2}), *(record_line("s", {"id": i}) for i in range(2, 8)),
                 state_line({"n": 8}), record_line("s", {"id": 8}))
    _wait_for(lambda: len(threaded_sink.received) == 3, "three requests in flight")
    time.sleep(0.2)

    target.stop()
    time.sleep(0.2)
    release.set()
    returncode, states, stderr = target.finish()

    assert returncode == 143, stderr
    assert threaded_sink.peak_in_flight == 3
    assert sorted(threaded_sink.ids()) == list(range(8))
    assert states == [{"n": 2}]
    assert "Received SIGTERM" in stderr


def test_sigint_mid_flight_with_a_failing_batch_writes_no_state_past_it(
    threaded_sink: SinkServer, tmp_path: Path
):
    release = threading.Event()

    def hold(got: Received) -> Response:
        release.wait(WAIT)
        return Response("down", status=503 if _first_id(got) == 2 else 200)

    threaded_sink.default = hold
    target = RunningTarget(_config(threaded_sink, 3), tmp_path)
    target.wait_ready()
    target.write(*_batches_with_states("s", 6).splitlines())
    _wait_for(lambda: len(threaded_sink.received) == 3, "three requests in flight")

    target.stop(signal.SIGINT)
    time.sleep(0.2)
    release.set()
    returncode, states, stderr = target.finish()

    assert returncode not in (0, 130), stderr
    assert states == [{"n": 2}]  # batch 1 acknowledged; batch 2 never
    assert "records 2-3 of stream 's' not delivered: HTTP 503" in stderr


def test_sigterm_with_requests_in_flight_past_the_drain_deadline_exits_without_state(
    threaded_sink: SinkServer, tmp_path: Path
):
    release = threading.Event()

    def hang(_: Received) -> Response:
        release.wait(15)
        return Response(status=200)

    threaded_sink.default = hang
    target = RunningTarget(_config(threaded_sink, 3, drain_deadline=1, timeout=30), tmp_path)
    target.wait_ready()
    target.write(*_batches_with_states("s", 6).splitlines())
    _wait_for(lambda: len(threaded_sink.received) == 3, "three requests in flight")

    started = time.monotonic()
    target.stop()
    try:
        outcome = target.finish(timeout=10)
    finally:
        release.set()

    assert_drain_gave_up(outcome, started, within=8)
