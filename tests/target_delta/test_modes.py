"""overwrite, append and merge against real Delta tables; STATE only after the commit."""

from __future__ import annotations

import gzip
import io
import json
from contextlib import redirect_stdout

import pytest
from deltalake import DeltaTable

from rest_api_core.arrow.convert import ValueConversionError
from rest_api_core.errors import ConfigError
from target_delta.target import TargetDelta
from tests.target_delta.conftest import (
    full_table,
    lines,
    record_msg,
    rows,
    run_target,
    schema_msg,
    state_msg,
    version,
    version_msg,
)

PROPS = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}


def _people(names: dict[int, str]) -> list[dict]:
    return [record_msg("people", {"id": i, "name": n}) for i, n in names.items()]


def _run(config: dict, names: dict[int, str], state: dict | None = None) -> list[dict]:
    """One complete full-table read of ``names`` (ACTIVATE_VERSION marks around it)."""
    messages = full_table([schema_msg("people", PROPS), *_people(names)])
    if state is not None:
        messages.append(state_msg(state))
    return run_target(config, messages)


# -- overwrite ------------------------------------------------------------------------------

def test_overwrite_twice_replaces_content_and_history_keeps_both(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 2}
    assert _run(config, {1: "a", 2: "b", 3: "c"}, {"run": 1}) == [{"run": 1}]
    assert _run(config, {4: "d", 5: "e"}, {"run": 2}) == [{"run": 2}]

    assert rows(path) == [{"id": 4, "name": "d"}, {"id": 5, "name": "e"}]
    assert version(path) == 1  # one commit per run, however many batches
    history = DeltaTable(str(path)).history()
    # (newest first) a local table is created with the first run's files, then replaced
    assert [h["operation"] for h in history] == ["WRITE", "CREATE TABLE"]
    assert rows(path, version=0) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"},
                                     {"id": 3, "name": "c"}]


def test_overwrite_is_invisible_to_readers_until_the_end_of_the_run(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 2}
    _run(config, {1: "old"})

    target = TargetDelta(config=config)
    out = io.StringIO()
    with redirect_stdout(out):
        target.process_lines(io.StringIO(lines(
            [schema_msg("people", PROPS), version_msg("people"),
             *_people({2: "n", 3: "n", 4: "n", 5: "n", 6: "n"}), state_msg({"run": 2})])))
        target.drain_all()  # several batches drained and staged, STATE due
        assert version(path) == 0 and rows(path) == [{"id": 1, "name": "old"}]
        assert out.getvalue() == ""  # no STATE while the overwrite is not committed
        target.process_lines(io.StringIO(lines([version_msg("people")])))  # completion
        target.process_endofpipe()
    assert [r["id"] for r in rows(path)] == [2, 3, 4, 5, 6]
    assert json.loads(out.getvalue()) == {"run": 2}


def test_failed_overwrite_leaves_the_previous_version_readable(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite", "batch_size_rows": 2}
    _run(config, {1: "a", 2: "b"}, {"run": 1})

    bad = [schema_msg("people", PROPS), version_msg("people"), *_people({3: "c", 4: "d"}),
           state_msg({"run": 2}), record_msg("people", {"id": "not a number"}),
           version_msg("people")]
    target = TargetDelta(config=config)
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(ValueConversionError, match="column 'id'"):
        target.listen(io.StringIO(lines(bad)))

    assert out.getvalue() == ""
    assert version(path) == 0
    assert rows(path) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_overwrite_of_a_stream_without_records_empties_the_table(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "overwrite"}
    _run(config, {1: "a"})
    _run(config, {})
    assert rows(path) == []
    assert DeltaTable(str(path)).schema().to_arrow().field("name") is not None


# -- append -----------------------------------------------------------------------------------

def test_append_commits_each_batch_and_keeps_earlier_runs(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "load_method": "append-only", "batch_size_rows": 2}
    _run(config, {1: "a", 2: "b", 3: "c"})
    assert version(path) == 1  # batches [1,2] and [3]
    _run(config, {4: "d"})
    assert version(path) == 2
    assert [r["id"] for r in rows(path)] == [1, 2, 3, 4]


def test_a_batch_file_is_written_with_the_records_around_it(tmp_path):
    batch_file = tmp_path / "people-0001.jsonl.gz"
    with gzip.open(batch_file, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps({"id": i, "name": f"n{i}"}) + "\n" for i in range(2, 6))
    batch = {"type": "BATCH", "stream": "people", "manifest": [batch_file.as_uri()],
             "encoding": {"format": "jsonl", "compression": "gzip"}}
    path = tmp_path / "t"

    states = run_target({"path": str(path), "mode": "append"},
                        [schema_msg("people", PROPS), *_people({1: "a"}), batch,
                         state_msg({"done": 1})])

    assert states == [{"done": 1}]
    assert rows(path) == [{"id": 1, "name": "a"}] + [{"id": i, "name": f"n{i}"}
                                                     for i in range(2, 6)]


def test_state_is_written_only_after_the_commit_holding_every_record_before_it(tmp_path):
    path = tmp_path / "t"
    seen: list[tuple[dict, list[int]]] = []

    class Spy(TargetDelta):
        _MAX_RECORD_AGE_IN_MINUTES = 0  # the SDK drains everything after every record

        def _write_state_message(self, state: dict) -> None:
            super()._write_state_message(state)
            seen.append((state, [r["id"] for r in rows(path)] if path.exists() else []))

    messages = [schema_msg("people", PROPS)]
    for i in range(1, 5):
        messages += [record_msg("people", {"id": i, "name": "x"}), state_msg({"upto": i})]
    run_target({"path": str(path), "mode": "append"}, messages, target_class=Spy)

    for state, stored in seen:
        assert set(range(1, state["upto"] + 1)) <= set(stored), (state, stored)
    assert seen[-1][0] == {"upto": 4}


def test_no_state_when_the_final_drain_fails(tmp_path):
    path = tmp_path / "t"
    messages = [schema_msg("people", PROPS), *_people({1: "a"}), state_msg({"upto": 1}),
                record_msg("people", {"id": 1.5})]
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(ValueConversionError):
        TargetDelta(config={"path": str(path)}).listen(io.StringIO(lines(messages)))
    assert out.getvalue() == ""


# -- merge ------------------------------------------------------------------------------------

def test_merge_updates_matches_inserts_the_rest_and_keeps_the_last_row_per_key(tmp_path):
    path = tmp_path / "t"
    config = {"path": str(path), "mode": "merge"}
    _run(config, {1: "a", 2: "b", 3: "c"})
    messages = [schema_msg("people", PROPS),
                *_people({2: "B-first"}), *_people({2: "B", 4: "d"}), *_people({1: "A"})]
    run_target(config, messages)
    assert rows(path) == [{"id": 1, "name": "A"}, {"id": 2, "name": "B"},
                          {"id": 3, "name": "c"}, {"id": 4, "name": "d"}]


def test_merge_keys_setting_overrides_key_properties(tmp_path):
    path = tmp_path / "t"
    props = {"id": {"type": "integer"}, "email": {"type": "string"}, "n": {"type": "integer"}}
    config = {"path": str(path), "mode": "upsert", "merge_keys": ["email"]}
    run_target(config, [schema_msg("u", props), record_msg("u", {"id": 1, "email": "x", "n": 1})])
    run_target(config, [schema_msg("u", props), record_msg("u", {"id": 2, "email": "x", "n": 2})])
    assert rows(path) == [{"id": 2, "email": "x", "n": 2}]


def test_merge_on_camel_case_and_special_key_names(tmp_path):
    path = tmp_path / "t"
    props = {"Id": {"type": "string"}, "a:b": {"type": "integer"}}
    config = {"path": str(path), "mode": "merge"}
    for value in (1, 2):
        run_target(config, [schema_msg("s", props, keys=["Id", "a:b"]),
                            record_msg("s", {"Id": "K", "a:b": 7}),
                            record_msg("s", {"Id": "K", "a:b": value})])
    # (K, 7) was matched (not inserted twice) through the quoted CamelCase and "a:b" names.
    assert rows(path, key="a:b") == [{"Id": "K", "a:b": v} for v in (1, 2, 7)]


def test_merge_without_keys_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"mode merge needs keys.*merge_keys"):
        run_target({"path": str(tmp_path / "t"), "mode": "merge"},
                   [schema_msg("people", PROPS, keys=[]), *_people({1: "a"})])
