"""SIGTERM/SIGINT to target-delta (``rest_api_core.target_shutdown``) over real processes.

The slow and failing drains go through a delaying TCP proxy in front of the moto S3 server.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.conftest import CANARY_TOKEN, RunningPlugin, assert_drain_gave_up
from tests.target_delta.conftest import (
    REGION,
    full_table,
    lines,
    record_msg,
    rows,
    schema_msg,
    state_msg,
    stray_files,
    version_msg,
)

SETTLE = 1.5
"""Seconds for the target to read what was written and block on stdin again."""

PROPS = {"id": {"type": "integer"}}


class DelayProxy:
    """Forwards 127.0.0.1 connections to ``upstream``, each request held ``delay`` seconds."""

    def __init__(self, upstream: str, delay: float) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=60)
        except OSError:
            client.close()
            return

        def pump(src: socket.socket, dst: socket.socket, slow: bool) -> None:
            try:
                while data := src.recv(65536):
                    if slow and self._stop.wait(self.delay):
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (src, dst):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
        pump(client, upstream, True)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()


class RunningTarget(RunningPlugin):
    """target-delta as a child process, ready for signals once constructed."""

    def __init__(self, config: dict, tmp_path: Path) -> None:
        super().__init__("target-delta", config, tmp_path)
        self.wait_ready()
        time.sleep(0.3)

    def write(self, messages: list[dict]) -> None:  # type: ignore[override]
        super().write(lines(messages))
        time.sleep(SETTLE)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.send_signal(signum)


def _s3(endpoint: str, **extra: object) -> dict:
    return {"storage_options": {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN}, **extra}


BUFFERED = [schema_msg("s", PROPS), *(record_msg("s", {"id": i}) for i in (1, 2, 3)),
            state_msg({"n": 3})]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_commits_the_buffer_writes_state_and_exits_128_plus_signal(tmp_path, signum, code):
    path = tmp_path / "t"
    target = RunningTarget({"path": str(path)}, tmp_path)
    target.write(BUFFERED)
    assert not path.exists()  # still buffered: nothing drained yet

    target.signal(signum)
    returncode, states, stderr = target.finish()

    assert returncode == code, stderr
    assert states == [{"n": 3}]
    assert [r["id"] for r in rows(path)] == [1, 2, 3]
    assert f"Received {signal.Signals(signum).name}" in stderr


def test_signal_with_a_failing_drain_exits_non_zero_without_state(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = RunningTarget({"path": str(blocker / "t")}, tmp_path)  # cannot be created
    target.write(BUFFERED)

    target.signal(signal.SIGTERM)
    returncode, states, stderr = target.finish()

    assert returncode not in (0, 143), stderr
    assert states == []
    assert "stream 's': writing" in stderr and "failed" in stderr


def test_second_signal_does_not_run_the_shutdown_twice(tmp_path, s3_endpoint):
    proxy = DelayProxy(s3_endpoint, delay=0.4)
    uri = "s3://datalake/shutdown/twice"
    try:
        target = RunningTarget({"path": uri, **_s3(proxy.url)}, tmp_path)
        target.write(BUFFERED)
        target.signal(signal.SIGTERM)
        time.sleep(0.3)  # the drain is in progress, held up by the proxy
        target.signal(signal.SIGTERM)
        returncode, states, stderr = target.finish()
    finally:
        proxy.close()

    assert returncode == 143, stderr
    assert states == [{"n": 3}]
    assert stderr.count("already draining, ignored") == 1
    assert stderr.count("Delivered every buffered record") == 1
    got = DeltaTable(uri, storage_options=_s3(s3_endpoint)["storage_options"])
    assert sorted(got.to_pyarrow_table().column("id").to_pylist()) == [1, 2, 3]


def test_drain_over_its_deadline_exits_non_zero_without_state(tmp_path, s3_endpoint):
    proxy = DelayProxy(s3_endpoint, delay=30)
    try:
        target = RunningTarget({"path": "s3://datalake/shutdown/slow",
                                **_s3(proxy.url, drain_deadline=1)}, tmp_path)
        target.write(BUFFERED)
        started = time.monotonic()
        target.signal(signal.SIGTERM)
        outcome = target.finish(timeout=20)
    finally:
        proxy.close()

    assert_drain_gave_up(outcome, started, within=10)


def test_signal_during_an_overwrite_keeps_the_previous_version_and_writes_no_state(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 2}
    first = RunningTarget(config, tmp_path)
    first.write([*full_table(BUFFERED[:-1]), BUFFERED[-1]])
    assert first.finish(end_input=True)[:2] == (0, [{"n": 3}])

    target = RunningTarget(config, tmp_path)
    target.write([schema_msg("s", PROPS), version_msg("s", 2),
                  *(record_msg("s", {"id": i}) for i in range(10, 15)),
                  state_msg({"n": 14})])  # two batches staged, one buffered
    target.signal(signal.SIGTERM)
    returncode, states, stderr = target.finish()

    assert returncode == 143, stderr
    assert states == []
    assert "is incomplete and is not committed" in stderr
    assert DeltaTable(str(path)).version() == 0
    assert [r["id"] for r in rows(path)] == [1, 2, 3]
    assert stray_files(path) == []  # the files written for version 2 were deleted
