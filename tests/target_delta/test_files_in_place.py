"""Overwrite of a local, unpartitioned table: rows go straight into the table's directory as
files no version names yet, and one commit names them (``target_delta.files_in_place``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from rest_api_core.arrow.schema import stream_layout
from rest_api_core.errors import ConnectorError
from tests.target_delta.conftest import (
    full_table,
    lines,
    record_msg,
    rows,
    run_target,
    schema_msg,
    stray_files,
    version,
    version_msg,
)

PROPS = {"id": {"type": "integer"}, "v": {"type": ["integer", "null"]}}
WIDER = {"id": {"type": "integer"}, "v": {"type": ["number", "null"]},
         "note": {"type": ["string", "null"]}}


def _records(ids: range, **extra: object) -> list[dict]:
    return [record_msg("s", {"id": i, "v": i, **extra}) for i in ids]


def _data_files(path: Path) -> list[str]:
    return sorted(Path(uri).name for uri in DeltaTable(str(path)).file_uris())


def test_batches_become_the_tables_files_in_one_commit(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 2},
               full_table([schema_msg("s", PROPS), *_records(range(1, 6))]))
    assert version(path) == 0
    assert [r["id"] for r in rows(path)] == [1, 2, 3, 4, 5]
    assert len(_data_files(path)) == 3  # one per drained batch, where they were written
    assert all((path / name).exists() for name in _data_files(path))
    assert stray_files(path) == []


def test_a_replacement_retires_the_previous_files_and_keeps_them_for_time_travel(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite"}
    run_target(config, full_table([schema_msg("s", PROPS), *_records(range(1, 4))]))
    first = _data_files(path)
    run_target(config, full_table([schema_msg("s", PROPS), *_records(range(7, 9))], 2))
    assert version(path) == 1 and [r["id"] for r in rows(path)] == [7, 8]
    assert set(_data_files(path)).isdisjoint(first)
    assert [r["id"] for r in rows(path, version=0)] == [1, 2, 3]


def test_files_written_before_a_widening_are_rewritten_to_the_final_schema(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 2},
               full_table([schema_msg("s", PROPS), *_records(range(1, 4)),
                           schema_msg("s", WIDER),
                           record_msg("s", {"id": 4, "v": 4.5, "note": "wide"})]))
    table = DeltaTable(str(path))
    schema = pa.schema(table.schema().to_arrow())
    assert schema.field("v").type == pa.float64() and "note" in schema.names
    assert [(r["id"], r["v"], r["note"]) for r in rows(path)] == [
        (1, 1.0, None), (2, 2.0, None), (3, 3.0, None), (4, 4.5, "wide")]
    for uri in table.file_uris():  # every file has exactly the table's columns and types
        assert pq.read_schema(uri).remove_metadata() == schema.remove_metadata()
    assert stray_files(path) == []


def test_an_unfinished_replacement_leaves_no_files_behind(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 2}
    run_target(config, full_table([schema_msg("s", PROPS), *_records(range(1, 3))]))
    with pytest.raises(ConnectorError, match="overwrite not committed"):
        run_target(config, [schema_msg("s", PROPS), version_msg("s", 2),
                            *_records(range(10, 15))])
    assert version(path) == 0 and [r["id"] for r in rows(path)] == [1, 2]
    assert stray_files(path) == []


def test_an_unfinished_first_replacement_leaves_no_directory(tmp_path):
    path = tmp_path / "new" / "t"
    with pytest.raises(ConnectorError, match="overwrite not committed"):
        run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 2},
                   [schema_msg("s", PROPS), version_msg("s", 1), *_records(range(1, 6))])
    assert not path.exists()


def test_a_failing_target_process_leaves_no_files_behind(tmp_path):
    """A lossy type change stops the target midway (after two files were written): the
    process removes them on its way out."""
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 1}
    run_target(config, full_table([schema_msg("s", PROPS), *_records(range(1, 3))]))
    text = {"id": {"type": "integer"}, "v": {"type": ["string", "null"]}}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "target-delta"), "--config", str(config_file)],
        input=lines(full_table([schema_msg("s", PROPS), *_records(range(5, 7)),
                                schema_msg("s", text), record_msg("s", {"id": 7, "v": "x"})],
                               2)),
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "v" in done.stderr and "string" in done.stderr
    assert version(path) == 0 and [r["id"] for r in rows(path)] == [1, 2]
    assert stray_files(path) == []


def _batch_file(directory: Path, ids: range) -> Path:
    layout = stream_layout({"type": "object", "properties": PROPS})
    table = pa.Table.from_pylist([{"id": i, "v": i} for i in ids], schema=layout.schema)
    directory.mkdir(exist_ok=True)
    path = directory / f"s-{ids.start}.parquet"
    pq.write_table(table, path)
    return path


def _batch_msg(paths: list[Path]) -> dict:
    return {"type": "BATCH", "stream": "s", "encoding": {"format": "parquet"},
            "manifest": [p.as_uri() for p in paths]}


@pytest.mark.parametrize("delete", [True, False])
def test_a_batch_file_of_the_exact_schema_becomes_a_data_file(tmp_path, delete):
    path, batches = tmp_path / "t", tmp_path / "batches"
    files = [_batch_file(batches, range(1, 4)), _batch_file(batches, range(4, 4)),
             _batch_file(batches, range(5, 7))]
    run_target({"path": str(path), "mode": "overwrite", "delete_batch_files": delete},
               [schema_msg("s", PROPS), version_msg("s", 1), _batch_msg(files),
                version_msg("s", 1)])
    assert [r["id"] for r in rows(path)] == [1, 2, 3, 5, 6]
    assert len(_data_files(path)) == 2  # an empty file adds nothing
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True)).to_pylist()
    assert sorted((a["min.id"], a["max.id"], a["null_count.v"]) for a in actions) == [
        (1, 3, 0), (5, 6, 0)]  # the moved files carry statistics from their footers
    assert [f.exists() for f in files] == [not delete] * 3
    assert stray_files(path) == []


def test_files_follow_their_stream_when_a_second_stream_splits_the_path(tmp_path):
    """A path without {stream} gets <path>/<stream> per stream once a second stream arrives:
    the files the first stream already wrote move along, uncommitted."""
    path = tmp_path / "t"
    first = [record_msg("a", {"id": i, "v": i}) for i in range(1, 4)]
    run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 1},
               [schema_msg("a", PROPS), version_msg("a"), *first,
                schema_msg("b", PROPS), version_msg("b"), record_msg("b", {"id": 9, "v": 9}),
                version_msg("a"), version_msg("b")])
    assert [r["id"] for r in rows(path / "a")] == [1, 2, 3]
    assert [r["id"] for r in rows(path / "b")] == [9]
    assert sorted(p.name for p in path.iterdir()) == ["a", "b"]
    assert stray_files(path / "a") == [] and stray_files(path / "b") == []
