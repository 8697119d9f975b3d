"""A failed extraction never replaces a Delta table: tap and target as real processes.

Every case starts from a table at version 0 holding yesterday's three customers, then runs
tonight's extraction against a local API that is down, fails midway, stalls (and the tap is
killed), or completes.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from tests.pipeline.failing_api import (
    PAGE_SIZE,
    SCHEMA,
    FailingApi,
    Pipe,
    run_pipeline,
    tap_stream,
)

OLD_ROWS = [{"id": i, "name": f"old-{i}"} for i in (1, 2, 3)]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """Yesterday's table: version 0, three rows."""
    path = tmp_path / "customers"
    write_deltalake(str(path), pa.Table.from_pylist(
        OLD_ROWS, schema=pa.schema([("id", pa.int64()), ("name", pa.string())])))
    return path


def table_rows(path: Path) -> list[dict]:
    return sorted(DeltaTable(str(path)).to_pyarrow_table().to_pylist(),
                  key=lambda r: (r["id"], r["name"]))


def assert_unchanged(path: Path) -> None:
    assert DeltaTable(str(path)).version() == 0
    assert table_rows(path) == OLD_ROWS


def closed_port_url() -> str:
    """A URL on which nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/customers"


def pipe_to(tmp_path: Path, url: str, target: dict) -> Pipe:
    """Tonight's extraction of ``url`` piped into target-delta."""
    return Pipe(tmp_path, {"streams": [tap_stream(url)]}, target)


def overwrite(path: Path) -> dict:
    return {"path": str(path), "mode": "overwrite"}


NOT_COMMITTED = "was NOT committed: the input ended before the stream's completion"


def test_api_down_keeps_the_table(tmp_path, table):
    tap_code, target_code, states, log = pipe_to(tmp_path, closed_port_url(),
                                              overwrite(table)).finish()
    assert tap_code != 0 and target_code != 0
    assert states == []
    assert NOT_COMMITTED in log
    assert_unchanged(table)


def test_failure_on_page_3_keeps_the_table(tmp_path, table):
    with FailingApi(fail_from_page=3) as api:
        tap_code, target_code, states, log = pipe_to(tmp_path, api.url, overwrite(table)).finish()
    assert api.pages_served == 2
    assert tap_code != 0 and target_code != 0
    assert states == []
    assert NOT_COMMITTED in log
    assert_unchanged(table)


def test_tap_killed_midway_keeps_the_table(tmp_path, table):
    with FailingApi(stall_from_page=3, stall_seconds=20) as api:
        pipe = pipe_to(tmp_path, api.url, overwrite(table))
        assert api.stalled.wait(60), "the tap never reached page 3"
        pipe.tap.send_signal(signal.SIGKILL)
        tap_code, target_code, states, log = pipe.finish()
    assert tap_code == -signal.SIGKILL
    assert target_code != 0
    assert states == []
    assert NOT_COMMITTED in log
    assert_unchanged(table)


def test_complete_read_replaces_the_table_in_one_commit(tmp_path, table):
    with FailingApi(total=25) as api:
        tap_code, target_code, states, _ = pipe_to(tmp_path, api.url, overwrite(table)).finish()
    assert (tap_code, target_code) == (0, 0)
    assert states, "STATE after the commit"
    assert DeltaTable(str(table)).version() == 1
    assert table_rows(table) == [{"id": i, "name": f"new-{i}"} for i in range(1, 26)]


def test_complete_read_of_zero_records_empties_the_table(tmp_path, table):
    with FailingApi(total=0) as api:
        tap_code, target_code, states, _ = pipe_to(tmp_path, api.url, overwrite(table)).finish()
    assert (tap_code, target_code) == (0, 0)
    assert states
    assert DeltaTable(str(table)).version() == 1
    assert table_rows(table) == []
    assert [f.name for f in DeltaTable(str(table)).schema().fields] == [f["name"] for f in SCHEMA]


@pytest.mark.parametrize("mode", ["append", "merge"])
def test_append_and_merge_keep_what_was_read_before_the_failure(tmp_path, table, mode):
    with FailingApi(fail_from_page=3) as api:
        tap_code, target_code, states, _ = pipe_to(
            tmp_path, api.url, {"path": str(table), "mode": mode}).finish()
    assert tap_code != 0
    assert target_code == 0  # its input ended; what it read is committed batch by batch
    assert states == []  # the tap failed before any STATE: none is acknowledged
    new = [{"id": i, "name": f"new-{i}"} for i in range(1, 2 * PAGE_SIZE + 1)]
    expected = OLD_ROWS + new if mode == "append" else new  # merge: ids 1-3 updated
    assert table_rows(table) == sorted(expected, key=lambda r: (r["id"], r["name"]))


def test_rest_connector_run_with_a_failing_tap_commits_nothing(tmp_path, table):
    with FailingApi(fail_from_page=3) as api:
        done = run_pipeline(tmp_path, api.url, table)
    assert done.returncode != 0
    assert "tap-rest-api failed (exit 1): stopping the outputs" in done.stderr
    assert "customers_delta: STOPPED, the tap failed" in done.stdout
    assert "customers_delta: ok" not in done.stdout
    assert "state not saved" in done.stdout
    assert not (tmp_path / "nightly.state.json").exists()
    assert_unchanged(table)


def test_rest_connector_run_with_the_api_down_commits_nothing(tmp_path, table):
    done = run_pipeline(tmp_path, closed_port_url(), table)
    assert done.returncode != 0
    assert "customers_delta: STOPPED, the tap failed" in done.stdout
    assert_unchanged(table)


def test_rest_connector_run_of_a_complete_read_replaces_the_table(tmp_path, table):
    with FailingApi(total=15) as api:
        done = run_pipeline(tmp_path, api.url, table)
    assert done.returncode == 0, done.stderr
    assert "customers_delta: ok" in done.stdout
    assert table_rows(table) == [{"id": i, "name": f"new-{i}"} for i in range(1, 16)]
