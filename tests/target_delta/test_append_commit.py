"""``append_commit: run``: a stream's appended rows in one commit at its completion; a failed,
stopped or killed run adds nothing, and its rerun adds the rows once."""

from __future__ import annotations

import signal
import subprocess

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from rest_api_core.errors import ConnectorError
from tests.conftest import BIN
from tests.pipeline.failing_api import PAGE_SIZE, RUN_PIPELINE, FailingApi
from tests.target_delta.conftest import (
    full_table,
    record_msg,
    rows,
    run_target,
    schema_msg,
    state_msg,
    stray_files,
    version,
    version_msg,
)
from tests.target_delta.test_shutdown import RunningTarget

PROPS = {"id": {"type": "integer"}, "v": {"type": ["integer", "null"]}}
CONFIG = {"mode": "append", "append_commit": "run", "batch_size_rows": 2}


def _config(path) -> dict:
    return {"path": str(path), **CONFIG}


def _records(ids: range, props: dict = PROPS) -> list[dict]:
    return [schema_msg("s", props), *(record_msg("s", {"id": i, "v": i}) for i in ids)]


def _ids(path) -> list[int]:
    return [r["id"] for r in rows(path)]


def test_a_full_table_stream_is_appended_in_one_commit_at_its_closing_mark(tmp_path):
    path = tmp_path / "t"
    run_target(_config(path), full_table(_records(range(1, 4))))
    run_target(_config(path), full_table(_records(range(4, 11)), version=2))
    assert version(path) == 1  # one commit per run, however many batches
    assert _ids(path) == list(range(1, 11))
    assert stray_files(path) == []


def test_an_incremental_stream_commits_at_the_end_of_input_and_state_follows(tmp_path):
    path = tmp_path / "t"
    run_target(_config(path), _records(range(1, 3)))
    states = run_target(_config(path), [*_records(range(3, 8)), state_msg({"at": 7})])
    assert states == [{"at": 7}]  # held while staged, written after the commit
    assert version(path) == 1
    assert _ids(path) == list(range(1, 8))


def test_a_failing_tap_adds_nothing_and_the_rerun_adds_the_rows_once(tmp_path):
    path = tmp_path / "t"
    run_target(_config(path), full_table(_records(range(1, 4))))
    failed = [*_records(range(4, 9))]
    failed.insert(1, version_msg("s", 2))  # the read starts, and never completes
    with pytest.raises(ConnectorError, match=r"append not committed for stream\(s\) s"):
        run_target(_config(path), [*failed, state_msg({"at": 8})])
    assert version(path) == 0 and _ids(path) == [1, 2, 3]
    assert stray_files(path) == []
    run_target(_config(path), full_table(_records(range(4, 9)), version=3))
    assert _ids(path) == list(range(1, 9))


def test_a_widening_rewrites_the_stored_rows_in_the_same_single_commit(tmp_path):
    path = tmp_path / "t"
    run_target(_config(path), full_table(_records(range(1, 3))))
    wider = {"id": {"type": "integer"}, "v": {"type": ["number", "null"]}}
    run_target(_config(path), full_table([schema_msg("s", wider),
                                          record_msg("s", {"id": 3, "v": 2.5})], version=2))
    assert version(path) == 1
    assert [(r["id"], r["v"]) for r in rows(path)] == [(1, 1.0), (2, 2.0), (3, 2.5)]


def test_a_partitioned_table_stages_and_appends_once(tmp_path):
    path = tmp_path / "t"
    config = {**_config(path), "partition_by": ["v"]}
    run_target(config, full_table(_records(range(1, 6))))
    run_target(config, full_table(_records(range(6, 9)), version=2))
    assert version(path) == 1 and _ids(path) == list(range(1, 9))
    assert DeltaTable(str(path)).metadata().partition_columns == ["v"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_or_killed_run_adds_nothing_and_the_rerun_no_duplicates(tmp_path, signum):
    path = tmp_path / "t"
    run_target(_config(path), full_table(_records(range(1, 4))))
    target = RunningTarget(_config(path), tmp_path)
    target.write([*_records(range(4, 20))[:1], version_msg("s", 2),
                  *_records(range(4, 20))[1:], state_msg({"at": 19})])  # 8 batches staged
    target.signal(signum)
    returncode, states, _ = target.finish()
    assert returncode == (143 if signum == signal.SIGTERM else -signal.SIGKILL)
    assert states == []
    assert version(path) == 0 and _ids(path) == [1, 2, 3]
    if signum == signal.SIGTERM:
        assert stray_files(path) == []  # a stopped run deletes what it staged
    else:
        assert stray_files(path)  # a killed one leaves unnamed files, for VACUUM
    run_target(_config(path), full_table(_records(range(4, 20)), version=3))
    assert _ids(path) == list(range(1, 20))


INCREMENTAL_PIPELINE = RUN_PIPELINE.replace(
    "rate_limit: {{max_retries: 0}}",
    'rate_limit: {{max_retries: 0}}\n      incremental: {{replication_key: id, param: since, '
    'start_value: "0"}}',
).replace("mode: overwrite", "mode: append\n      append_commit: run")
"""The failing-extraction pipeline, its stream incremental and its output an atomic append."""


def test_rest_connector_run_with_a_failing_incremental_tap_adds_nothing(tmp_path):
    """An incremental stream has no completion mark: its rows are committed at the end of the
    target's input, which ``rest-connector run`` never lets a failed tap's target reach."""
    table = tmp_path / "customers"
    write_deltalake(str(table), pa.table({"id": pa.array([0], pa.int64()), "name": ["old"]}))
    pipeline = tmp_path / "hourly.yml"

    def run(url: str) -> subprocess.CompletedProcess[str]:
        pipeline.write_text(INCREMENTAL_PIPELINE.format(url=url, page_size=PAGE_SIZE,
                                                        path=table))
        return subprocess.run([str(BIN / "rest-connector"), "run", str(pipeline)],
                              capture_output=True, text=True, timeout=120, check=False)

    with FailingApi(fail_from_page=3) as api:
        failed = run(api.url)
    assert failed.returncode != 0
    assert version(table) == 0 and _ids(table) == [0]
    assert stray_files(table) == []
    with FailingApi() as api:
        done = run(api.url)
    assert done.returncode == 0, done.stderr
    assert version(table) == 1 and _ids(table) == list(range(51))  # 50 rows, once
