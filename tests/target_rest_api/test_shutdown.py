"""SIGTERM/SIGINT to target-rest-api: drain, STATE only if delivered, 143/130, never twice.

These exercise ``rest_api_core.target_shutdown`` through a real target process.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import CANARY_TOKEN, assert_drain_gave_up
from tests.target_rest_api.conftest import (
    RunningTarget,
    SinkServer,
    record_line,
    schema_line,
    state_line,
)

SETTLE = 1.0
"""Seconds for the target to read what was written and block on stdin again."""


def _config(sink: SinkServer, **extra: object) -> dict:
    return {
        "url": sink.url(),
        "batch_size": 2,
        "auth": {"type": "bearer", "token": CANARY_TOKEN},
        "rate_limit": {"max_retries": 0},
        **extra,
    }


def _start_with_one_batch_buffered(sink: SinkServer, tmp_path: Path, **extra: object):
    """A target that delivered records 1-2 (STATE {"n": 2} seen) and buffers record 3."""
    target = RunningTarget(_config(sink, **extra), tmp_path)
    target.write(schema_line("s"), record_line("s", {"id": 1}), record_line("s", {"id": 2}),
                 state_line({"n": 2}))
    assert target.read_state() == {"n": 2}
    target.write(record_line("s", {"id": 3}), state_line({"n": 3}))
    time.sleep(SETTLE)
    return target


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_drains_buffer_writes_state_and_exits_128_plus_signal(
    sink: SinkServer, tmp_path: Path, signum: int, code: int
):
    target = _start_with_one_batch_buffered(sink, tmp_path)
    assert sink.ids() == [1, 2]

    target.stop(signum)
    returncode, states, stderr = target.finish()

    assert returncode == code, stderr
    assert sink.ids() == [1, 2, 3]
    assert states == [{"n": 3}]
    assert f"Received {signal.Signals(signum).name}" in stderr


def test_sigterm_with_failing_drain_exits_non_zero_without_state(
    sink: SinkServer, tmp_path: Path
):
    target = _start_with_one_batch_buffered(sink, tmp_path)
    sink.default = lambda _: Response("down for maintenance", status=500)

    target.stop()
    returncode, states, stderr = target.finish()

    assert returncode not in (0, 143), stderr
    assert states == []
    assert "records 2-2 of stream 's' (key {\"id\":3}) not delivered: HTTP 500" in stderr


def test_second_signal_does_not_run_the_shutdown_twice(sink: SinkServer, tmp_path: Path):
    target = _start_with_one_batch_buffered(sink, tmp_path)
    release = threading.Event()

    def slow(_: object) -> Response:
        release.wait(2)
        return Response(status=200)

    sink.default = slow
    target.stop()
    time.sleep(0.3)
    target.stop()
    release.set()
    returncode, states, stderr = target.finish()

    assert returncode == 143, stderr
    assert sink.ids() == [1, 2, 3]
    assert states == [{"n": 3}]
    assert stderr.count("already draining, ignored") == 1


def test_drain_over_its_deadline_exits_non_zero_without_state(sink: SinkServer, tmp_path: Path):
    target = _start_with_one_batch_buffered(sink, tmp_path, drain_deadline=1, timeout=30)
    release = threading.Event()

    def hang(_: object) -> Response:
        release.wait(15)
        return Response(status=200)

    sink.default = hang
    started = time.monotonic()
    target.stop()
    try:
        outcome = target.finish(timeout=10)
    finally:
        release.set()

    assert_drain_gave_up(outcome, started, within=8)
