"""Incremental child streams on Spark: each parent's children are read from that parent's
bookmark in the Singer engine's state, and after the Delta commit the state holds, per parent,
the greatest value the commit added for it, in the shape the Singer engine writes.

The Spark runs are ``rest-connector run --engine spark`` in this process, on the tests' Spark
session; the Singer runs are real processes. The API is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from deltalake import DeltaTable
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.spark.test_pipeline import run

START = "2024-01-01T00:00:00Z"
PIPELINE = f"""
CONFIG:
  inputs:
    parents:
      format: rest_api
      url: "{{{{ env.API }}}}/parents"
      response: {{root_key: data}}
      primary_keys: [id]
    events:
      format: rest_api
      parent: parents
      url: "{{{{ env.API }}}}/parents/{{parent.id}}/events"
      include_from_parent: [id]
      response: {{root_key: data}}
      primary_keys: [id]
      schema: [{{name: id, type: integer}}, {{name: updated_at, type: timestamp}},
               {{name: _parents_id, type: integer}}]
      incremental: {{replication_key: updated_at, param: since, start_value: "{START}"}}
  outputs:
    lake:
      format: delta
      path: "{{{{ env.OUT }}}}/{{stream}}"
      mode: append
"""
SECOND_OUTPUT = """
    copy:
      format: delta
      path: "{{ env.COPY }}/{stream}"
      mode: append
"""


class EventsApi:
    """Three parents; ``GET /parents/<id>/events?since=`` answers the parent's events updated
    after ``since``, and notes ``(parent, since)`` of each request."""

    def __init__(self) -> None:
        self.events: dict[int, list[str]] = {
            1: ["2025-01-01T00:00:01Z", "2025-01-01T00:00:05Z"],
            2: ["2025-01-02T00:00:00Z"],
            3: ["2025-01-03T00:00:00Z"],
        }
        self.asked: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def add(self, parent: int, updated_at: str) -> None:
        with self.lock:
            self.events[parent].append(updated_at)

    def since_per_parent(self) -> dict[int, str]:
        """What each parent's children were asked for since the last call."""
        with self.lock:
            asked, self.asked = self.asked, []
        assert len(asked) == len({parent for parent, _ in asked}), asked  # once per parent
        return dict(asked)

    def __call__(self, request: Request) -> Response:
        path = urlsplit(request.url).path.strip("/").split("/")
        if path == ["parents"]:
            body = {"data": [{"id": n, "name": f"parent {n}"} for n in (1, 2, 3)]}
        else:
            parent, since = int(path[1]), parse_qs(urlsplit(request.url).query)["since"][0]
            with self.lock:
                self.asked.append((parent, since))
                body = {"data": [{"id": parent * 100 + number, "updated_at": updated}
                                 for number, updated in enumerate(self.events[parent])
                                 if updated > since]}
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def api(httpserver: HTTPServer) -> EventsApi:
    found = EventsApi()
    httpserver.expect_request("/parents", method="GET").respond_with_handler(found)
    httpserver.expect_request(
        re.compile(r"/parents/\d+/events"), method="GET").respond_with_handler(found)
    return found


def _env(httpserver: HTTPServer, tmp_path, table: str) -> dict[str, str]:
    return {"API": httpserver.url_for("").rstrip("/"), "OUT": str(tmp_path / table),
            "COPY": str(tmp_path / f"{table}-copy")}


def _singer(pipeline, tmp_path, httpserver, table: str, state: str) -> None:
    done = run(pipeline, tmp_path, _env(httpserver, tmp_path, table),
               "--state", str(tmp_path / state))
    assert done.returncode == 0, done.stderr


def _spark(on_spark, pipeline, tmp_path, httpserver, table: str, state: str) -> str:
    code, out = on_spark(pipeline, _env(httpserver, tmp_path, table),
                         "--state", str(tmp_path / state))
    assert code == 0, out
    return out


def _state(tmp_path, name: str) -> dict:
    return json.loads((tmp_path / name).read_text())


def _bookmarks(tmp_path, name: str) -> dict[int, str]:
    return {p["context"]["_parents_id"]: p["replication_key_value"]
            for p in _state(tmp_path, name)["bookmarks"]["events"]["partitions"]}


def _events(tmp_path, table: str) -> list[tuple[int, int, str]]:
    rows = DeltaTable(str(tmp_path / table / "events")).to_pyarrow_table().to_pylist()
    return sorted((r["_parents_id"], r["id"], r["updated_at"].isoformat()) for r in rows)


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "pipeline.yml"
    path.write_text(PIPELINE)
    return path


def test_each_parent_asks_only_for_what_is_new_and_the_state_is_the_singer_engines(
        api, httpserver, pipeline, tmp_path, on_spark):
    _spark(on_spark, pipeline, tmp_path, httpserver, "spark", "spark.json")
    assert api.since_per_parent() == {1: START, 2: START, 3: START}
    _singer(pipeline, tmp_path, httpserver, "singer", "singer.json")
    api.since_per_parent()
    assert _state(tmp_path, "spark.json") == _state(tmp_path, "singer.json")
    assert _bookmarks(tmp_path, "spark.json") == {
        1: "2025-01-01T00:00:05Z", 2: "2025-01-02T00:00:00Z", 3: "2025-01-03T00:00:00Z"}

    api.add(1, "2025-02-01T00:00:00Z")
    api.add(3, "2025-02-03T00:00:00Z")
    _spark(on_spark, pipeline, tmp_path, httpserver, "spark", "spark.json")
    assert api.since_per_parent() == {
        1: "2025-01-01T00:00:05Z", 2: "2025-01-02T00:00:00Z", 3: "2025-01-03T00:00:00Z"}
    _singer(pipeline, tmp_path, httpserver, "singer", "singer.json")
    api.since_per_parent()
    assert _state(tmp_path, "spark.json") == _state(tmp_path, "singer.json")
    assert _bookmarks(tmp_path, "spark.json") == {
        1: "2025-02-01T00:00:00Z", 2: "2025-01-02T00:00:00Z", 3: "2025-02-03T00:00:00Z"}
    assert _events(tmp_path, "spark") == _events(tmp_path, "singer")
    assert len(_events(tmp_path, "spark")) == 6  # every event once


def test_engines_switch_singer_spark_singer_and_each_run_asks_only_for_what_is_new(
        api, httpserver, pipeline, tmp_path, on_spark):
    _singer(pipeline, tmp_path, httpserver, "lake", "state.json")
    api.since_per_parent()
    singer_bookmarks = _bookmarks(tmp_path, "state.json")

    api.add(2, "2025-02-02T00:00:00Z")
    _spark(on_spark, pipeline, tmp_path, httpserver, "lake", "state.json")
    assert api.since_per_parent() == singer_bookmarks
    spark_bookmarks = _bookmarks(tmp_path, "state.json")
    assert spark_bookmarks == {**singer_bookmarks, 2: "2025-02-02T00:00:00Z"}

    api.add(1, "2025-03-01T00:00:00Z")
    _singer(pipeline, tmp_path, httpserver, "lake", "state.json")
    assert api.since_per_parent() == spark_bookmarks
    assert _bookmarks(tmp_path, "state.json") == {**spark_bookmarks, 1: "2025-03-01T00:00:00Z"}
    events = _events(tmp_path, "lake")
    assert len(events) == len(set(events)) == 6  # nothing lost, nothing read twice


def test_a_failed_output_keeps_every_parents_bookmark(api, httpserver, pipeline, tmp_path,
                                                      on_spark):
    _spark(on_spark, pipeline, tmp_path, httpserver, "spark", "spark.json")
    before = (tmp_path / "spark.json").read_text()
    api.since_per_parent()

    pipeline.write_text(PIPELINE + SECOND_OUTPUT)
    (tmp_path / "spark-copy").write_text("a file where the copy's folder would be")
    api.add(1, "2025-02-01T00:00:00Z")
    code, out = on_spark(pipeline, _env(httpserver, tmp_path, "spark"),
                         "--state", str(tmp_path / "spark.json"))
    assert code == 1
    assert "events → lake: written" in out
    assert "events → copy: FAILED" in out
    assert (tmp_path / "spark.json").read_text() == before
    assert ("2025-02-01T00:00:00+00:00" in [e[2] for e in _events(tmp_path, "spark")])

    pipeline.write_text(PIPELINE)
    api.since_per_parent()
    _spark(on_spark, pipeline, tmp_path, httpserver, "spark", "spark.json")
    assert api.since_per_parent()[1] == "2025-01-01T00:00:05Z"  # asked again from the old one
    assert _bookmarks(tmp_path, "spark.json")[1] == "2025-02-01T00:00:00Z"
