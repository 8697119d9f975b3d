"""Column statistics on every file we commit by name equal delta-rs' own, so readers skip files.

Each case writes the same rows twice: once with delta-rs' ``write_deltalake``, once as a Parquet
file committed through ``target_delta.commit`` (the path of the in-place overwrite, the moved
batch files, atomic appends and the Spark engine). The ``stats`` of both add actions must be
equal.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from rest_api_core.arrow.convert import record_batch
from rest_api_core.arrow.schema import stream_layout
from target_delta.commit import DataFile, commit_files
from target_delta.table_folder import TableFolder
from tests.target_delta.conftest import full_table, record_msg, run_target, schema_msg
from tests.target_delta.test_types import RECORDS, SPEC_PROPERTIES

UTC = dt.timezone.utc
TS = pa.timestamp("us", tz="UTC")


def _stats(path: Path) -> list[dict]:
    """The parsed stats of the table's add actions, in file order."""
    log = sorted((path / "_delta_log").glob("*.json"))
    adds = [json.loads(line)["add"] for entry in log for line in entry.read_text().splitlines()
            if '"add"' in line]
    return [json.loads(add["stats"]) for add in adds]


def _ours(tmp_path: Path, data: pa.Table, *, row_group_size: int | None = None,
          configuration: dict | None = None) -> dict:
    path = tmp_path / "ours"
    if configuration:  # the table's properties decide which columns get statistics
        write_deltalake(str(path), data.slice(0, 0), configuration=configuration)
    path.mkdir(exist_ok=True)
    pq.write_table(data, path / "part-0.parquet", row_group_size=row_group_size)
    table = DeltaTable(str(path)) if configuration else None
    commit_files(TableFolder(str(path)), table, [DataFile("part-0.parquet")], data.schema,
                 "append")
    return _stats(path)[-1]


def _delta_rs(tmp_path: Path, data: pa.Table, configuration: dict | None = None) -> dict:
    path = tmp_path / "delta_rs"
    write_deltalake(str(path), data, configuration=configuration)
    return _stats(path)[-1]


EDGES = pa.table({
    "i": pa.array([2**63 - 1, -(2**63), None], pa.int64()),
    "f": pa.array([float("nan"), -0.0, 2.5], pa.float64()),
    "inf": pa.array([float("inf"), -float("inf"), 1.0], pa.float64()),
    "zero": pa.array([0.0, 3.0, None], pa.float64()),
    "all_nan": pa.array([float("nan")] * 3, pa.float64()),
    "b": pa.array([None, None, None], pa.bool_()),
    "t": pa.array([dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
                   dt.datetime(1, 1, 1, tzinfo=UTC),
                   dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)], TS),
    "t_round": pa.array([dt.datetime(2024, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC), None,
                         dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC)], TS),
    "d": pa.array([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1969, 12, 31)]),
    "long": pa.array(["a" * 64, "é" * 40, "b" * 65]),
    "max_char": pa.array(["\U0010ffff" * 20, "a", None]),
    "cut_char": pa.array(["a" * 60 + "\U0010ffff" + "b", "z" * 63 + "\x7f" + "b",
                          "a" * 61 + "\ud7ff" + "b"]),
    "nulls": pa.array([None, None, None], pa.string()),
    "bin": pa.array([b"\x00", b"\xff", None], pa.binary()),
    "deep": pa.array([{"a": {"b": 1, "c": "x"}}, None, {"a": None}],
                     pa.struct([("a", pa.struct([("b", pa.int64()), ("c", pa.string())]))])),
    "listed": pa.array([[1, 2], None, []], pa.list_(pa.int64())),
})


def test_every_type_of_the_spec_has_delta_rs_statistics(tmp_path):
    layout = stream_layout({"type": "object", "properties": SPEC_PROPERTIES})
    data = pa.Table.from_batches([record_batch(RECORDS, layout)])
    assert _ours(tmp_path, data) == _delta_rs(tmp_path, data)


def test_edge_values_truncation_and_timestamps_as_delta_rs_writes_them(tmp_path):
    ours = _ours(tmp_path, EDGES)
    assert ours == _delta_rs(tmp_path, EDGES)
    assert ours["maxValues"]["long"] == "é" * 31 + "ê"  # cut at 64 bytes, raised to stay a bound
    assert ours["minValues"]["t"] == "0001-01-01T00:00:00Z"
    assert "bin" not in ours["nullCount"] and "listed" not in ours["nullCount"]


def test_row_groups_are_combined(tmp_path):
    data = pa.table({"id": list(range(100)),
                     "s": [None] * 50 + [f"v{i:03d}" for i in range(50)],
                     "t": pa.array([dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=i)
                                    for i in range(100)], TS)})
    ours = _ours(tmp_path, data, row_group_size=10)
    assert ours == _delta_rs(tmp_path, data)
    assert ours["nullCount"]["s"] == 50 and ours["minValues"]["s"] == "v000"


@pytest.mark.parametrize(("configuration", "indexed"), [
    (None, 32),  # the first 32 leaf columns
    ({"delta.dataSkippingNumIndexedCols": "3"}, 3),
    ({"delta.dataSkippingStatsColumns": "c39,c2"}, 2),
])
def test_the_tables_choice_of_columns_is_followed(tmp_path, configuration, indexed):
    columns = {f"c{i}": pa.array([i, i + 1]) for i in range(40)}
    columns["nested"] = pa.array([{"x": 1, "y": 2}] * 2, pa.struct([("x", pa.int64()),
                                                                      ("y", pa.int64())]))
    data = pa.table(columns)
    ours = _ours(tmp_path, data, configuration=configuration)
    assert ours == _delta_rs(tmp_path, data, configuration)
    assert len(ours["nullCount"]) == indexed


def test_a_predicate_reads_only_the_files_that_can_match(tmp_path):
    """20 files of 100 ids each, written by the in-place overwrite: a predicate on the id
    selects one file, and a pyarrow scan of the table with that filter reads one file."""
    path = tmp_path / "t"
    props = {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    records = [record_msg("s", {"id": i, "at": (start + dt.timedelta(hours=i)).isoformat()})
               for i in range(2000)]
    run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 100},
               full_table([schema_msg("s", props), *records]))
    table = DeltaTable(str(path))
    assert len(table.file_uris()) == 20
    assert len(table.file_uris(file_pruning_predicate="id >= 1950")) == 1
    assert len(table.file_uris(file_pruning_predicate="id >= 150 AND id < 250")) == 2
    assert len(table.file_uris(
        file_pruning_predicate=[("at", "<", dt.datetime(2024, 1, 2, 1, tzinfo=UTC))])) == 1
    dataset = table.to_pyarrow_dataset()
    matching = list(dataset.get_fragments(filter=ds.field("id") >= 1950))
    assert len(matching) == 1
    assert dataset.to_table(filter=ds.field("id") >= 1950).num_rows == 50
