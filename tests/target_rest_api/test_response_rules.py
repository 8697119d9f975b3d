"""target-rest-api's ``response.rules``: a 200 whose body says the batch was rejected is not
an acknowledgement when a rule says fail or retry."""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug import Response

from tests.conftest import run_plugin
from tests.target_rest_api.conftest import SinkServer, singer_input

REJECTED = {"when": {"status": 200, "field": "status", "equals": "rejected"}, "then": "fail"}
BUSY = {"when": {"status": 200, "body_contains": "try again"}, "then": "retry", "wait": 0}


def _run(sink: SinkServer, tmp_path: Path, stdin: str, rules: list[dict], **settings: object):
    config = {"url": sink.url(), "rate_limit": {"max_retries": 2},
              "response": {"rules": rules}, **settings}
    return run_plugin("target-rest-api", config, tmp_path, stdin=stdin)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def test_a_200_saying_rejected_fails_the_batch_and_holds_back_state(sink: SinkServer,
                                                                     tmp_path: Path):
    sink.then(_json({"status": "rejected", "reason": "schema mismatch on field id"}))

    result = _run(sink, tmp_path, singer_input("orders", range(3), state={"done": True}),
                  [REJECTED])

    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert ("HTTP 200 for POST /in/orders matches response.rules[0] (fail): "
            '{"status": "rejected", "reason": "schema mismatch on field id"}') in stderr
    assert result.stdout.decode() == ""  # the STATE after the rejected batch is not emitted


def test_a_rejected_batch_goes_to_the_dead_letter_file(sink: SinkServer, tmp_path: Path):
    sink.then(_json({"status": "rejected"}))
    dead = tmp_path / "dead.jsonl"

    result = _run(sink, tmp_path, singer_input("orders", range(2), state={"done": True}),
                  [REJECTED], on_failure="dead_letter", dead_letter_path=str(dead))

    assert result.returncode == 0, result.stderr.decode()
    assert len(dead.read_text().splitlines()) == 2
    assert result.stdout.decode().splitlines() == ['{"done": true}']


def test_a_200_saying_try_again_is_retried_then_acknowledged(sink: SinkServer, tmp_path: Path):
    sink.then(_json({"status": "busy", "detail": "try again"}),
              _json({"status": "busy", "detail": "try again"}))

    result = _run(sink, tmp_path, singer_input("orders", range(3), state={"done": True}),
                  [REJECTED, BUSY])

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 3
    assert sink.batches()[-1] == sink.batches()[0]
    assert result.stdout.decode().splitlines() == ['{"done": true}']


def test_without_rules_a_200_is_an_acknowledgement(sink: SinkServer, tmp_path: Path):
    sink.then(_json({"status": "rejected"}))
    result = _run(sink, tmp_path, singer_input("orders", range(1), state={"done": True}), [])
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == ['{"done": true}']


def test_a_rule_mistake_is_named_before_any_request(sink: SinkServer, tmp_path: Path):
    result = _run(sink, tmp_path, singer_input("orders", range(1)),
                  [{"when": {"field": "status"}, "then": "fail"}])
    assert result.returncode != 0
    assert ("response.rules[0].when: `field` takes exactly one of equals, in, present"
            in result.stderr.decode())
    assert sink.received == []
