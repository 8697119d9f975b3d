"""Partitioned tables on the in-place path: one file set per partition value, written where
they stay and named by one commit; read back equal to the staging path's table (S3, and
partition columns of other types, still stage)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from rest_api_core.arrow.schema import stream_layout
from tests.conftest import CANARY_TOKEN, run_plugin
from tests.target_delta.conftest import (
    REGION,
    full_table,
    lines,
    record_msg,
    rows,
    run_target,
    schema_msg,
    version_msg,
)

PROPS = {"id": {"type": "integer"}, "country": {"type": ["string", "null"]},
         "year": {"type": ["integer", "null"]}, "day": {"type": ["string", "null"],
                                                       "format": "date"},
         "vip": {"type": ["boolean", "null"]}, "at": {"type": ["string", "null"],
                                                      "format": "date-time"}}
COUNTRIES = ["FR", "DE", None, "a b/c", "Zoë"]


def _records(count: int = 40) -> list[dict]:
    return [schema_msg("s", PROPS), *(record_msg("s", {
        "id": i, "country": COUNTRIES[i % 5], "year": 2020 + i % 3,
        "day": f"2024-01-0{1 + i % 2}", "vip": i % 4 == 0,
        "at": f"2024-01-01T00:00:{i:02d}Z"}) for i in range(count))]


def _adds(path: Path) -> list[dict]:
    """The add actions of the table's latest commit."""
    latest = sorted((path / "_delta_log").glob("*.json"))[-1]
    return [json.loads(line)["add"] for line in latest.read_text().splitlines() if '"add"' in line]


PARTITIONS = ["country", "year", "day", "vip"]


def test_a_partitioned_overwrite_is_written_in_place_and_reads_back_as_staged(tmp_path):
    local = tmp_path / "local"
    run_target({"path": str(local), "mode": "overwrite", "partition_by": PARTITIONS,
                "batch_size_rows": 7}, full_table(_records()))
    adds = _adds(local)
    assert all(a["path"].startswith("country=") and "-c000." not in a["path"]
               for a in adds)  # ours, written in place (delta-rs names its files *-c000...)
    assert all(json.loads(a["stats"])["numRecords"] > 0 for a in adds)
    assert all("country" not in json.loads(a["stats"])["minValues"] for a in adds)

    # A table partitioned otherwise is re-partitioned through the staging path.
    staged = tmp_path / "staged"
    write_deltalake(str(staged), pa.table({"id": [0], "year": pa.array([1], pa.int64())}),
                    partition_by=["year"])
    run_target({"path": str(staged), "mode": "overwrite", "partition_by": PARTITIONS,
                "batch_size_rows": 7}, full_table(_records()))
    assert all("-c000." in a["path"] for a in _adds(staged))  # written by delta-rs
    assert rows(local) == rows(staged)
    assert DeltaTable(str(local)).metadata().partition_columns == PARTITIONS
    assert DeltaTable(str(staged)).metadata().partition_columns == PARTITIONS
    assert {json.dumps(a["partitionValues"], sort_keys=True) for a in adds} == {
        json.dumps(a["partitionValues"], sort_keys=True) for a in _adds(staged)}
    assert DeltaTable(str(local)).to_pyarrow_table().schema == DeltaTable(
        str(staged)).to_pyarrow_table().schema


@pytest.mark.parametrize("partition_by", [[], ["country", "year"]])
def test_an_s3_table_is_written_in_place_too(s3_endpoint, tmp_path, partition_by):
    """Through delta-rs' own filesystem, with the target's storage options (a process of its
    own: the S3 server of the tests runs in this one)."""
    options = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true",
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN}
    uri = f"s3://datalake/in-place-{len(partition_by)}/"
    config = {"path": uri, "mode": "overwrite", "partition_by": partition_by,
              "batch_size_rows": 7, "storage_options": options}
    for version in (1, 2):
        result = run_plugin("target-delta", config, tmp_path,
                            stdin=lines(full_table(_records(), version)))
        assert result.returncode == 0, result.stderr.decode()
    table = DeltaTable(uri, storage_options=options)
    assert table.version() == 1
    assert sorted(r["id"] for r in table.to_pyarrow_table().to_pylist()) == list(range(40))
    adds = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    if partition_by:  # one file set per partition value, in its folder
        assert all(a["path"].startswith("country=") for a in adds)
    else:
        assert len(adds) == 6  # one per batch of 7
    assert all("-c000." not in a["path"] for a in adds)  # ours, not copied by delta-rs
    assert all(a["min.id"] is not None for a in adds)  # footer statistics read from S3


def test_partition_values_are_serialized_as_delta_rs_does(tmp_path):
    ours = tmp_path / "ours"
    run_target({"path": str(ours), "mode": "overwrite", "partition_by": PARTITIONS},
               full_table(_records()))
    data = DeltaTable(str(ours)).to_pyarrow_table()
    theirs = tmp_path / "theirs"
    write_deltalake(str(theirs), data, partition_by=PARTITIONS)

    def values(path: Path) -> list[str]:
        return sorted(json.dumps(a["partitionValues"], sort_keys=True) for a in _adds(path))

    assert values(ours) == values(theirs)
    selected = DeltaTable(str(ours)).file_uris(
        file_pruning_predicate=[("country", "=", "a b/c"), ("year", "=", 2021)])
    assert len(selected) >= 1
    assert {r["country"] for r in DeltaTable(str(ours)).to_pyarrow_dataset().to_table(
        filter=pa.compute.field("country") == "a b/c").to_pylist()} == {"a b/c"}


def test_a_timestamp_partition_column_stays_on_the_staging_path(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path), "mode": "overwrite", "partition_by": ["at"]},
               full_table(_records(5)))
    assert [r["id"] for r in rows(path)] == [0, 1, 2, 3, 4]
    assert {r["at"] for r in rows(path)} == {
        dt.datetime(2024, 1, 1, 0, 0, s, tzinfo=dt.timezone.utc) for s in range(5)}
    assert all("-c000." in a["path"] for a in _adds(path))  # named by delta-rs


def test_a_batch_file_is_uploaded_in_place_to_s3(s3_endpoint, tmp_path):
    """The fast path's Parquet batch file becomes one of the S3 table's data files."""
    options = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true",
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "test",
               "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN}
    props = {"id": {"type": "integer"}, "v": {"type": ["integer", "null"]}}
    layout = stream_layout({"type": "object", "properties": props})
    batch_file = tmp_path / "s-1.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": i, "v": i} for i in range(5)],
                                        schema=layout.schema), batch_file)
    uri = "s3://datalake/batch-in-place/"
    messages = [schema_msg("s", props), version_msg("s"),
                {"type": "BATCH", "stream": "s", "encoding": {"format": "parquet"},
                 "manifest": [batch_file.as_uri()]}, version_msg("s")]
    result = run_plugin("target-delta", {"path": uri, "mode": "overwrite",
                                         "delete_batch_files": True, "storage_options": options},
                        tmp_path, stdin=lines(messages))
    assert result.returncode == 0, result.stderr.decode()
    table = DeltaTable(uri, storage_options=options)
    assert sorted(r["id"] for r in table.to_pyarrow_table().to_pylist()) == list(range(5))
    adds = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    assert len(adds) == 1 and adds[0]["max.id"] == 4
    assert not batch_file.exists()
