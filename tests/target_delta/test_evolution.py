"""Schemas that change mid-stream and between runs: widened without loss, or refused clearly."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from target_delta.evolution import SchemaChangeError
from tests.target_delta.conftest import (
    full_table,
    read_table,
    record_msg,
    rows,
    run_target,
    schema_msg,
)

ID = {"id": {"type": "integer"}}


def _types(path) -> dict[str, pa.DataType]:
    return {f.name: f.type for f in read_table(path).schema}


@pytest.mark.parametrize("mode", ["append", "overwrite", "merge"])
def test_new_column_mid_stream(tmp_path, mode):
    path = tmp_path / "t"
    run_target({"path": str(path), "mode": mode}, full_table([
        schema_msg("s", {**ID, "a": {"type": "string"}}),
        record_msg("s", {"id": 1, "a": "x"}),
        schema_msg("s", {**ID, "a": {"type": "string"},
                         "b": {"type": "object", "properties": {"c": {"type": "boolean"}}}}),
        record_msg("s", {"id": 2, "a": "y", "b": {"c": True}}),
    ]))
    assert rows(path) == [{"id": 1, "a": "x", "b": None}, {"id": 2, "a": "y", "b": {"c": True}}]


@pytest.mark.parametrize("mode", ["append", "overwrite", "merge"])
def test_integer_widened_to_number_and_null_only_column_gaining_a_type(tmp_path, mode):
    """The tap's inferred-schema widening: every value intact, in one target run."""
    path = tmp_path / "t"
    config = {"path": str(path), "mode": mode, "batch_size_rows": 2}
    run_target(config, full_table([
        schema_msg("s", {**ID, "n": {"type": ["integer", "null"]}, "z": {"type": ["null"]}}),
        record_msg("s", {"id": 1, "n": 2**53, "z": None}),
        record_msg("s", {"id": 2, "n": -(2**53), "z": None}),
        record_msg("s", {"id": 3, "n": 7, "z": None}),   # drained with the next SCHEMA
        schema_msg("s", {**ID, "n": {"type": ["number", "null"]},
                         "z": {"type": ["string", "null"], "format": "date"}}),
        record_msg("s", {"id": 4, "n": 0.5, "z": "2024-05-06"}),
    ]))
    assert _types(path) == {"id": pa.int64(), "n": pa.float64(), "z": pa.date32()}
    got = rows(path)
    assert [r["n"] for r in got] == [2.0**53, -(2.0**53), 7.0, 0.5]
    assert [str(r["z"]) for r in got] == ["None", "None", "None", "2024-05-06"]


def test_widening_across_runs_rewrites_the_table_in_one_commit(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "integer"}}),
                                     record_msg("s", {"id": 1, "n": 5})])
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "number"}}),
                                     record_msg("s", {"id": 2, "n": 1.25})])
    assert _types(path)["n"] == pa.float64()
    assert [r["n"] for r in rows(path)] == [5.0, 1.25]
    assert DeltaTable(str(path)).version() == 1  # rewrite + new batch: one commit
    # A later run that is back to integer is cast up to the table's float64.
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "integer"}}),
                                     record_msg("s", {"id": 3, "n": 3})])
    assert [r["n"] for r in rows(path)] == [5.0, 1.25, 3.0]
    assert _types(path)["n"] == pa.float64()


def test_integer_to_number_is_refused_when_a_stored_value_is_beyond_2_pow_53(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "integer"}}),
                                     record_msg("s", {"id": 1, "n": 2**53 + 1})])
    with pytest.raises(SchemaChangeError, match=r"column 'n'.*int64.*double.*2\^53"):
        run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "number"}}),
                                         record_msg("s", {"id": 2, "n": 1.5})])
    assert rows(path) == [{"id": 1, "n": 2**53 + 1}]  # untouched, exact


def test_lossy_changes_are_errors_naming_the_column(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "name": {"type": "string"}}),
                                     record_msg("s", {"id": 1, "name": "Ann"})])
    with pytest.raises(SchemaChangeError, match=r"column 'name': the table stores string"):
        run_target({"path": str(path)}, [schema_msg("s", {**ID, "name": {"type": "integer"}}),
                                         record_msg("s", {"id": 2, "name": 5})])
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "f": {"type": "number"}}),
                                     record_msg("s", {"id": 3, "f": 1.5})])
    with pytest.raises(SchemaChangeError, match=r"column 'f'"):
        run_target({"path": str(path)}, [schema_msg("s", {**ID, "f": {"type": "boolean"}}),
                                         record_msg("s", {"id": 4, "f": True})])
    assert [r["id"] for r in rows(path)] == [1, 3]


def test_nested_widening_and_new_nested_field(tmp_path):
    path = tmp_path / "t"
    obj = {"type": "object", "properties": {"v": {"type": "integer"}}}
    run_target({"path": str(path)}, [
        schema_msg("s", {**ID, "o": obj, "l": {"type": "array", "items": {"type": "integer"}}}),
        record_msg("s", {"id": 1, "o": {"v": 1}, "l": [1, 2]}),
    ])
    obj2 = {"type": "object", "properties": {"v": {"type": "number"}, "w": {"type": "string"}}}
    run_target({"path": str(path)}, [
        schema_msg("s", {**ID, "o": obj2, "l": {"type": "array", "items": {"type": "number"}}}),
        record_msg("s", {"id": 2, "o": {"v": 0.5, "w": "x"}, "l": [0.5]}),
    ])
    assert rows(path) == [
        {"id": 1, "o": {"v": 1.0, "w": None}, "l": [1.0, 2.0]},
        {"id": 2, "o": {"v": 0.5, "w": "x"}, "l": [0.5]},
    ]


def test_a_null_only_batch_column_takes_the_tables_type(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "integer"}}),
                                     record_msg("s", {"id": 1, "n": 1})])
    run_target({"path": str(path)}, [schema_msg("s", {**ID, "n": {"type": "null"}}),
                                     record_msg("s", {"id": 2, "n": None})])
    assert _types(path)["n"] == pa.int64()
    assert rows(path) == [{"id": 1, "n": 1}, {"id": 2, "n": None}]


def test_table_written_by_another_tool_int32_widened_and_large_strings_accepted(tmp_path):
    path = tmp_path / "t"
    write_deltalake(str(path), pa.table({"id": pa.array([1], pa.int32()),
                                         "s": pa.array(["a"], pa.large_string())}))
    run_target({"path": str(path)}, [schema_msg("t", {**ID, "s": {"type": "string"}}),
                                     record_msg("t", {"id": 2**40, "s": "b"})])
    assert _types(path)["id"] == pa.int64()
    assert rows(path) == [{"id": 1, "s": "a"}, {"id": 2**40, "s": "b"}]


# -- streams and paths ---------------------------------------------------------------------------

def _two_streams() -> list[dict]:
    return [schema_msg("a", ID), record_msg("a", {"id": 1}),
            schema_msg("b", {**ID, "x": {"type": "string"}}), record_msg("b", {"id": 2, "x": "y"})]


def test_two_streams_into_stream_paths(tmp_path):
    run_target({"path": str(tmp_path / "lake" / "{stream}_table")}, _two_streams())
    assert rows(tmp_path / "lake" / "a_table") == [{"id": 1}]
    assert rows(tmp_path / "lake" / "b_table") == [{"id": 2, "x": "y"}]


def test_several_streams_without_placeholder_go_under_path(tmp_path):
    run_target({"path": str(tmp_path / "lake")}, _two_streams())
    assert rows(tmp_path / "lake" / "a") == [{"id": 1}]
    assert rows(tmp_path / "lake" / "b") == [{"id": 2, "x": "y"}]
    assert not (tmp_path / "lake" / "_delta_log").exists()


def test_one_stream_without_placeholder_is_the_table_at_path(tmp_path):
    run_target({"path": f"file://{tmp_path}/lake"}, _two_streams()[:2])
    assert rows(tmp_path / "lake") == [{"id": 1}]


def test_a_second_stream_after_a_commit_to_a_path_without_placeholder_is_refused(tmp_path):
    from rest_api_core.errors import ConfigError

    messages = [schema_msg("a", ID), record_msg("a", {"id": 1}), record_msg("a", {"id": 2}),
                schema_msg("b", ID), record_msg("b", {"id": 3})]
    with pytest.raises(ConfigError, match=r"stream 'a' was already committed there"):
        run_target({"path": str(tmp_path / "lake"), "batch_size_rows": 1}, messages)
    assert rows(tmp_path / "lake") == [{"id": 1}, {"id": 2}]  # stays readable
