"""Compaction and vacuum after a successful run (``optimize``, ``vacuum``), and on demand
(``rest-connector maintain``); checkpoints on every commit path."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from singer_sdk.exceptions import ConfigValidationError

from rest_connector.cli import main
from target_delta.commit import DataFile, commit_files
from target_delta.maintenance import Maintenance
from target_delta.table_folder import TableFolder
from tests.target_delta.conftest import full_table, record_msg, rows, run_target, schema_msg

PROPS = {"id": {"type": "integer"}}


def _append(path: Path, ids: range, **config: object) -> None:
    run_target({"path": str(path), "batch_size_rows": 1, **config},
               [schema_msg("s", PROPS), *(record_msg("s", {"id": i}) for i in ids)])


def _files(path: Path) -> int:
    return len(DeltaTable(str(path)).file_uris())


def test_compaction_runs_once_the_table_has_min_files_small_files(tmp_path):
    path = tmp_path / "t"
    optimize = {"optimize": {"min_files": 16, "target_size": "1MB"}}
    _append(path, range(10), **optimize)
    assert _files(path) == 10  # below min_files: not compacted
    _append(path, range(10, 20), **optimize)
    assert _files(path) == 1  # 20 small files: compacted into one
    assert [r["id"] for r in rows(path)] == list(range(20))


def test_a_partitioned_table_is_compacted_where_a_partition_is_crowded(tmp_path):
    path = tmp_path / "t"
    props = {"id": {"type": "integer"}, "p": {"type": "string"}}
    run_target({"path": str(path), "batch_size_rows": 1, "partition_by": ["p"],
                "optimize": {"min_files": 5}},
               [schema_msg("s", props), *(record_msg("s", {"id": i, "p": "a" if i < 6 else "b"})
                                          for i in range(9))])
    files = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True)).to_pylist()
    per_partition = sorted(f["partition.p"] for f in files)
    assert per_partition == ["a", "b", "b", "b"]  # 6 files of a compacted; 3 of b left


def test_readers_see_a_consistent_table_during_compaction(tmp_path):
    path = tmp_path / "t"
    for start in range(0, 400, 10):
        write_deltalake(str(path), pa.table({"id": list(range(start, start + 10))}),
                        mode="append")
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = DeltaTable(str(path)).to_pyarrow_table()
            seen.append(data.num_rows)
            assert sorted(data.column("id").to_pylist()) == list(range(400))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert Maintenance(min_files=2).run(DeltaTable(str(path)), logging.getLogger("test"))
    finally:
        done.set()
        reader.join()
    assert _files(path) == 1 and seen and set(seen) == {400}


def _retired_and_current(path: Path) -> tuple[set[str], set[str]]:
    current = {Path(u).name for u in DeltaTable(str(path)).file_uris()}
    return {f.name for f in path.glob("*.parquet")} - current, current


def test_vacuum_keeps_what_the_retention_still_needs(tmp_path, caplog):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite"}
    run_target(config, full_table([schema_msg("s", PROPS), record_msg("s", {"id": 1})]))
    run_target({**config, "vacuum": {"retain_hours": 168}},
               full_table([schema_msg("s", PROPS), record_msg("s", {"id": 2})], version=2))
    retired, current = _retired_and_current(path)
    assert len(retired) == 1  # retired just now: within 168 hours, kept for time travel
    assert DeltaTable(str(path), version=0).to_pyarrow_table().num_rows == 1

    with caplog.at_level(logging.WARNING):
        run_target({**config, "vacuum": {"retain_hours": 0, "enforce_retention": False}},
                   full_table([schema_msg("s", PROPS), record_msg("s", {"id": 3})], version=3))
    retired, current = _retired_and_current(path)
    assert retired == set() and len(current) == 1
    assert [r["id"] for r in rows(path)] == [3]
    assert "below the 168-hour safety retention" in caplog.text


def test_a_retention_below_the_safety_default_needs_enforce_retention_false(tmp_path):
    with pytest.raises(ConfigValidationError) as error:
        run_target({"path": str(tmp_path / "t"), "vacuum": {"retain_hours": 1}}, [])
    assert "vacuum.retain_hours: 1 is below" in str(error.value.errors)


def test_a_failing_maintenance_is_one_warning_and_the_load_stays(tmp_path, caplog):
    path = tmp_path / "t"
    write_deltalake(str(path), pa.table({"id": [0]}),
                    configuration={"delta.deletedFileRetentionDuration": "interval 1000 hours"})
    with caplog.at_level(logging.WARNING):
        _append(path, range(1, 3), vacuum={"retain_hours": 200})  # refused by delta-rs
    assert [r["id"] for r in rows(path)] == [0, 1, 2]
    warnings = [r for r in caplog.records if "Maintenance of" in r.getMessage()]
    assert len(warnings) == 1 and "the loaded data stays" in warnings[0].getMessage()


def _pipeline(tmp_path: Path, output: str) -> Path:
    pipeline = tmp_path / "p.yml"
    pipeline.write_text(f"""\
CONFIG:
  inputs:
    s:
      format: rest_api
      url: http://127.0.0.1:9/s
  outputs:
    lake:
      format: delta
      path: {tmp_path / "t"}
      {output}
""")
    return pipeline


def test_maintain_compacts_on_demand(tmp_path, capsys):
    path = tmp_path / "t"
    _append(path, range(20))
    compact = "optimize: {min_files: 4, target_size: 128MB}"
    assert main(["maintain", str(_pipeline(tmp_path, compact))]) == 0
    assert _files(path) == 1 and [r["id"] for r in rows(path)] == list(range(20))
    assert main(["maintain", str(_pipeline(tmp_path, "mode: append")), "--output", "lake"]) == 1
    assert "output 'lake': neither optimize nor vacuum is set" in capsys.readouterr().err
    assert main(["maintain", str(_pipeline(tmp_path, "mode: append")), "--output", "x"]) == 1
    assert "no Delta output of that name (Delta outputs: lake)" in capsys.readouterr().err


def test_checkpoints_on_our_commit_path_and_at_the_tables_interval(tmp_path):
    """250 commits of files named by ``target_delta.commit``: checkpoints at delta-rs'
    default interval (100); a table's own ``delta.checkpointInterval`` is followed."""
    for name, interval in (("default", None), ("own", 50)):
        root = tmp_path / name
        configuration = {"delta.checkpointInterval": str(interval)} if interval else None
        every = interval or 100  # delta-rs checkpoints the version that completes an interval
        expected = {v for v in range(251) if (v + 1) % every == 0}
        write_deltalake(str(root), pa.table({"id": [0]}), configuration=configuration)
        for i in range(1, 251):
            pq.write_table(pa.table({"id": [i]}), root / f"part-{i}.parquet")
            commit_files(TableFolder(str(root)), DeltaTable(str(root)),
                         [DataFile(f"part-{i}.parquet")],
                         pa.schema([("id", pa.int64())]), "append")
        checkpoints = {int(f.name.split(".")[0]) for f in (root / "_delta_log").glob(
            "*.checkpoint.parquet")}
        assert checkpoints == expected
        table = DeltaTable(str(root))
        assert table.version() == 250 and table.to_pyarrow_table().num_rows == 251


def test_checkpoint_on_the_batch_append_path(tmp_path):
    path = tmp_path / "t"
    _append(path, range(250))
    assert (path / "_delta_log" / f"{199:020d}.checkpoint.parquet").exists()
