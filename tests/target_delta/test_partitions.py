"""Partitioned tables on the in-place path: one file set per partition value, written where
they stay and named by one commit; read back equal to the staging path's table (S3, and
partition columns of other types, still stage)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from tests.target_delta.conftest import REGION, full_table, record_msg, rows, run_target, schema_msg

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


def test_a_partitioned_overwrite_is_written_in_place_and_reads_back_as_staged(
        tmp_path, s3_endpoint):
    local = tmp_path / "local"
    run_target({"path": str(local), "mode": "overwrite", "partition_by": PARTITIONS,
                "batch_size_rows": 7}, full_table(_records()))
    adds = _adds(local)
    assert all(a["path"].startswith("country=") and "-c000." not in a["path"]
               for a in adds)  # ours, written in place (delta-rs names its files *-c000...)
    assert all(json.loads(a["stats"])["numRecords"] > 0 for a in adds)
    assert all("country" not in json.loads(a["stats"])["minValues"] for a in adds)

    options = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    staged = "s3://datalake/partitioned/"
    run_target({"path": staged, "mode": "overwrite", "partition_by": PARTITIONS,
                "batch_size_rows": 7, "storage_options": options}, full_table(_records()))
    assert rows(local) == rows(staged, storage_options=options)
    ours = DeltaTable(str(local))
    assert ours.metadata().partition_columns == PARTITIONS
    assert ours.to_pyarrow_table().schema == DeltaTable(
        staged, storage_options=options).to_pyarrow_table().schema


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
