"""Incremental replication: the bookmark goes out as a parameter and comes back as STATE."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.tap.conftest import stream

ROWS = [{"id": i, "updated_at": f"2025-01-{i:02d}T00:00:00Z"} for i in range(1, 11)]


def _filtered(request: Request) -> Response:
    since = request.args.get("updated_since", "")
    rows = [r for r in ROWS if r["updated_at"] >= since]  # inclusive, as most APIs
    return Response(json.dumps({"data": rows}), content_type="application/json")


def _config(server: HTTPServer, **incremental: object) -> dict:
    return {"streams": [stream("rows", server.url_for("/rows"), response={"root_key": "data"},
                               incremental={"replication_key": "updated_at",
                                            "param": "updated_since", **incremental})]}


def _bookmark(run) -> str:
    state = run.of_type("STATE")[-1]["value"]
    return state["bookmarks"]["rows"]["replication_key_value"]


def test_first_run_sends_start_value_and_rerun_asks_only_for_new(httpserver: HTTPServer, tap,
                                                                 tmp_path):
    httpserver.expect_request("/rows").respond_with_handler(_filtered)
    first = tap(_config(httpserver, start_value="2025-01-05T00:00:00Z"))
    assert first.returncode == 0, first.stderr
    assert [r["id"] for r in first.records()] == [5, 6, 7, 8, 9, 10]
    assert httpserver.log[0][0].args["updated_since"] == "2025-01-05T00:00:00Z"
    assert _bookmark(first) == "2025-01-10T00:00:00Z"

    ROWS.append({"id": 11, "updated_at": "2025-01-11T00:00:00Z"})
    try:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(first.of_type("STATE")[-1]["value"]))
        second = tap(_config(httpserver, start_value="2025-01-05T00:00:00Z"),
                     "--state", str(state_path))
    finally:
        ROWS.pop()
    assert second.returncode == 0, second.stderr
    assert httpserver.log[-1][0].args["updated_since"] == "2025-01-10T00:00:00Z"
    assert [r["id"] for r in second.records()] == [10, 11]
    assert _bookmark(second) == "2025-01-11T00:00:00Z"


def test_without_state_or_start_value_no_bookmark_param_is_sent(httpserver: HTTPServer, tap):
    httpserver.expect_request("/rows").respond_with_handler(_filtered)
    run = tap(_config(httpserver))
    assert run.returncode == 0, run.stderr
    assert "updated_since" not in httpserver.log[0][0].args
    assert len(run.records()) == 10
    assert _bookmark(run) == "2025-01-10T00:00:00Z"


def test_unsorted_stream_bookmark_is_the_maximum_once_complete(httpserver: HTTPServer, tap):
    shuffled = [ROWS[3], ROWS[9], ROWS[0]]
    httpserver.expect_request("/rows").respond_with_json({"data": shuffled})
    run = tap(_config(httpserver, sorted=False))
    assert run.returncode == 0, run.stderr
    assert _bookmark(run) == "2025-01-10T00:00:00Z"
