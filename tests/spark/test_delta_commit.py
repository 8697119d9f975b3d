"""The Spark engine's Delta writer: every task's files in one commit, nothing on failure."""

from __future__ import annotations

import json
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from pyspark.errors import PySparkException

from spark_rest_api import DELTA_FORMAT
from spark_rest_api.delta_writer import DeltaFilesWriter
from target_delta.table_folder import TableFolder
from tests.spark.conftest import items_settings, read


def test_one_commit_per_job_and_a_failed_job_leaves_the_previous_version(
        spark, paged_api, tmp_path):
    path = str(tmp_path / "items")

    def write(mode: str) -> None:
        frame = read(spark, items_settings(paged_api.url), partitions=3)
        frame.write.format(DELTA_FORMAT).option("path", path).mode(mode).save()

    write("overwrite")
    write("append")
    before = DeltaTable(path)
    assert before.version() == 1
    assert len(before.file_uris()) == 6  # three tasks' files per commit
    assert sorted(before.to_pyarrow_table().column("id").to_pylist()) == sorted(
        list(range(950)) * 2)

    paged_api.fail_offset = 800  # the second page of partition 2 (pages 0-3, 4-6, 7-9),
    with pytest.raises(PySparkException) as failure:  # past the schema's five sample pages
        write("overwrite")
    assert "stream 'items', partition 2: HTTP 400" in str(failure.value)
    after = DeltaTable(path)
    assert after.version() == 1
    assert after.file_uris() == before.file_uris()
    assert after.to_pyarrow_table().num_rows == 1900


def test_the_jobs_files_carry_delta_rs_statistics_and_are_skipped_on_a_predicate(
        spark, paged_api, tmp_path):
    """The commit is target-delta's (``target_delta.commit``): each task's file has the
    statistics delta-rs would write for its rows, so readers skip files by id."""
    path = tmp_path / "items"
    frame = read(spark, items_settings(paged_api.url), partitions=3)
    frame.write.format(DELTA_FORMAT).option("path", str(path)).mode("overwrite").save()
    table = DeltaTable(str(path))
    assert len(table.file_uris()) == 3
    assert len(table.file_uris(file_pruning_predicate="id >= 900")) == 1  # ids 700-949's file

    for add in _first_adds(path):
        own = tmp_path / f"delta-rs-{add['path']}"
        write_deltalake(str(own), pq.read_table(path / add["path"]))
        assert json.loads(add["stats"]) == json.loads(_first_adds(own)[0]["stats"])


def _first_adds(path) -> list[dict]:
    log = (path / "_delta_log" / f"{0:020d}.json").read_text().splitlines()
    return [json.loads(line)["add"] for line in log if '"add"' in line]


def test_an_abort_also_removes_files_other_tasks_close_after_it_began(tmp_path):
    """Spark aborts a job when one task failed while others may still be closing a file:
    the abort lists the folder until it stays free of the job's files (no Spark needed)."""
    schema = pa.schema([("id", pa.int64())])
    writer = DeltaFilesWriter(str(tmp_path / "t"), {}, "append", schema, [], [])
    place = TableFolder(str(tmp_path / "t"))
    rows = pa.table({"id": [1]})
    place.write(f"part-00000-{writer.job}-0.parquet", rows)
    place.write("part-00000-anotherjob-0.parquet", rows)  # not this job's: kept
    late = threading.Timer(0.8, place.write, (f"part-00001-{writer.job}-0.parquet", rows))
    late.start()
    writer.abort([])
    late.join()
    assert place.names() == ["part-00000-anotherjob-0.parquet"]
