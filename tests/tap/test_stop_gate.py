"""Where a stop signal takes effect: any wait for an answer, including one that is just
beginning, and never in the middle of a change to the stream's state."""

from __future__ import annotations

import json
import re
import signal

import pytest
from pytest_httpserver import HTTPServer

from tap_rest_api import child_planning
from tap_rest_api.interrupt import StopGate, StopRequested
from tap_rest_api.tap import TapRestApi


def test_a_stop_landing_as_a_wait_begins_ends_that_wait() -> None:
    """The signal arrives right after the gate's check, before the wait is counted: the wait
    must still end at once (it used to run, possibly through a whole backoff)."""
    gate = StopGate()
    check = gate.check

    def check_then_signal() -> None:
        check()
        gate.request(signal.SIGTERM)  # what the signal handler does, at that very moment

    gate.check = check_then_signal
    waited = []
    with pytest.raises(StopRequested), gate.waiting():
        waited.append("the whole wait")
    assert waited == []


def test_a_stop_while_a_childs_request_ahead_is_prepared_never_cuts_a_state_change(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """Preparing a child's first request ahead records that sync's starting bookmark; a stop
    arriving meanwhile waits until the change is whole, then stops the run (exit 143) with a
    STATE that is valid JSON of what was written."""
    httpserver.expect_request("/parents").respond_with_json(
        [{"id": number} for number in range(1, 9)])
    httpserver.expect_request(re.compile(r"/parents/\d+/children")).respond_with_json(
        [{"id": 1, "updated": "2024-01-02T00:00:00Z"}])
    config = {"streams": [
        {"name": "parents", "url": httpserver.url_for("/parents"),
         "schema": [{"name": "id", "type": "integer"}]},
        {"name": "children", "url": httpserver.url_for("/parents/{parent.id}/children"),
         "parent": "parents", "concurrency": 2,
         "incremental": {"replication_key": "updated", "param": "since"},
         "schema": [{"name": "id", "type": "integer"}, {"name": "updated", "type": "timestamp"}]},
    ]}
    tap = TapRestApi(config=config, validate_config=True)
    started, finished = [], []
    original = child_planning.start_bookmark

    def stopped_midway(stream: object, context: dict) -> object:
        started.append(context)
        if len(started) == 3:
            tap.stop_gate.request(signal.SIGTERM)  # the handler, in the middle of the change
        value = original(stream, context)
        finished.append(context)
        return value

    monkeypatch.setattr(child_planning, "start_bookmark", stopped_midway)
    with pytest.raises(SystemExit) as stopped:
        tap.sync_all()
    assert stopped.value.code == 128 + signal.SIGTERM
    assert len(started) >= 3
    assert finished == started
    states = [json.loads(line) for line in capfd.readouterr().out.splitlines()
              if '"type":"STATE"' in line.replace(" ", "")]
    assert states and "children" in states[-1]["value"]["bookmarks"]
