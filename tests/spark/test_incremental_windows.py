"""A windowed incremental stream on Spark: the windows are planned from the bookmark in the
Singer engine's state, and after the Delta commit the state holds what the Singer engine holds
after the same run (the last window's end).

The Spark runs are ``rest-connector run --engine spark`` in this process, on the tests' Spark
session; the Singer runs are real processes. The API is a real HTTP server on 127.0.0.1 that
refuses ranges wider than 7 days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from deltalake import DeltaTable
from pytest_httpserver import HTTPServer

from tests.spark.test_pipeline import run
from tests.tap.windowed_api import START, WindowedApi, charges, iso

DAY = timedelta(days=1)
PIPELINE = f"""
CONFIG:
  inputs:
    charges:
      format: rest_api
      url: "{{{{ env.API }}}}/charges"
      response: {{root_key: data}}
      pagination: {{type: cursor, cursor_from: last_record, cursor_field: id,
                   cursor_param: starting_after, stop_field: has_more}}
      primary_keys: [id]
      schema: [{{name: id, type: integer}}, {{name: created, type: string}}]
      incremental:
        replication_key: created
        start_value: "{iso(START)}"
        end_value: "{{{{ env.END }}}}"
        window: {{step: 2d, start_param: "created[gte]", end_param: "created[lt]"}}
  outputs:
    lake:
      format: delta
      path: "{{{{ env.OUT }}}}"
      mode: append
"""


@pytest.fixture
def api(httpserver: HTTPServer) -> WindowedApi:
    found = WindowedApi(charges(days=20))
    httpserver.expect_request("/charges").respond_with_handler(found)
    return found


def _env(httpserver: HTTPServer, tmp_path, table: str, end: datetime | None) -> dict[str, str]:
    return {"API": httpserver.url_for("/").rstrip("/"), "OUT": str(tmp_path / table),
            "END": iso(end) if end else ""}


def _ranges(api: WindowedApi) -> list[tuple[datetime, datetime]]:
    """The windows asked for since the last call."""
    asked, api.ranges[:] = list(api.ranges), []
    return asked


def _state(tmp_path, name: str) -> dict:
    return json.loads((tmp_path / name).read_text())


def _ids(tmp_path, table: str) -> list[int]:
    return sorted(DeltaTable(str(tmp_path / table)).to_pyarrow_table().column("id").to_pylist())


def _runs(on_spark, pipeline, tmp_path, httpserver, end: datetime, spark_state: str
          ) -> None:
    """The same run on both engines, each on its own table and state."""
    code, out = on_spark(pipeline, _env(httpserver, tmp_path, "spark", end),
                         "--state", str(tmp_path / spark_state))
    assert code == 0, out
    done = run(pipeline, tmp_path, _env(httpserver, tmp_path, "singer", end),
               "--state", str(tmp_path / "singer.json"))
    assert done.returncode == 0, done.stderr


def test_windows_start_at_the_bookmark_and_the_state_is_the_singer_engines(
        api, httpserver, tmp_path, on_spark):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE)
    _runs(on_spark, pipeline, tmp_path, httpserver, START + 4 * DAY, "spark.json")
    assert sorted(_ranges(api)) == sorted(2 * [(START, START + 2 * DAY),
                                               (START + 2 * DAY, START + 4 * DAY)])
    assert _state(tmp_path, "spark.json") == _state(tmp_path, "singer.json") == {
        "bookmarks": {"charges": {"replication_key": "created",
                                  "replication_key_value": iso(START + 4 * DAY)}}}

    end = START + 8 * DAY + timedelta(hours=12)
    _runs(on_spark, pipeline, tmp_path, httpserver, end, "spark.json")
    later = [(START + 4 * DAY, START + 6 * DAY), (START + 6 * DAY, START + 8 * DAY),
             (START + 8 * DAY, end)]
    assert sorted(_ranges(api)) == sorted(2 * later)  # each engine from its bookmark only
    assert _state(tmp_path, "spark.json") == _state(tmp_path, "singer.json")
    assert _state(tmp_path, "spark.json")["bookmarks"]["charges"][
        "replication_key_value"] == iso(end)
    assert _ids(tmp_path, "spark") == _ids(tmp_path, "singer") == list(range(1, 22))

    # a run on Spark continues from the Singer engine's state
    code, out = on_spark(pipeline, _env(httpserver, tmp_path, "singer", end + 2 * DAY),
                         "--state", str(tmp_path / "singer.json"))
    assert code == 0, out
    assert _ranges(api) == [(end, end + 2 * DAY)]
    assert _state(tmp_path, "singer.json")["bookmarks"]["charges"][
        "replication_key_value"] == iso(end + 2 * DAY)


def test_without_end_value_the_bookmark_is_where_the_windows_the_run_read_end(
        httpserver, tmp_path, on_spark):
    api = WindowedApi(charges(days=20), max_width=400 * DAY)
    httpserver.expect_request("/charges").respond_with_handler(api)
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE.replace('end_value: "{{ env.END }}"', "")
                        .replace("step: 2d", "step: 365d"))
    started = datetime.now(timezone.utc).replace(microsecond=0)
    code, out = on_spark(pipeline, _env(httpserver, tmp_path, "spark", None),
                         "--state", str(tmp_path / "spark.json"))
    assert code == 0, out
    bookmark = _state(tmp_path, "spark.json")["bookmarks"]["charges"]["replication_key_value"]
    last_end = max(end for _, end in _ranges(api))
    assert bookmark == iso(last_end)
    assert started <= last_end <= datetime.now(timezone.utc)
