"""overwrite commits a stream only when the tap marks its read complete (ACTIVATE_VERSION)."""

from __future__ import annotations

import pytest

from rest_api_core.errors import ConnectorError
from tests.target_delta.conftest import (
    full_table,
    record_msg,
    rows,
    run_target,
    schema_msg,
    state_msg,
    version,
    version_msg,
)

PROPS = {"id": {"type": "integer"}}


def _records(stream: str, ids: range, version_number: int | None = None) -> list[dict]:
    messages = [record_msg(stream, {"id": i}) for i in ids]
    if version_number is not None:
        for message in messages:
            message["version"] = version_number
    return messages


@pytest.fixture
def path(tmp_path):
    """A table holding ids 1-3 at version 0."""
    table = tmp_path / "t"
    run_target({"path": str(table), "mode": "overwrite"},
               full_table([schema_msg("s", PROPS), *_records("s", range(1, 4))]))
    return table


def _ids(path) -> list[int]:
    return [r["id"] for r in rows(path)]


def test_without_marks_the_overwrite_is_refused_and_the_table_kept(path):
    with pytest.raises(ConnectorError, match=r"overwrite not committed for stream\(s\) s"):
        run_target({"path": str(path), "mode": "overwrite"},
                   [schema_msg("s", PROPS), *_records("s", range(10, 12)), state_msg({"n": 1})])
    assert version(path) == 0 and _ids(path) == [1, 2, 3]


def test_allow_unconfirmed_overwrite_commits_at_the_end_of_input(path):
    states = run_target({"path": str(path), "mode": "overwrite",
                         "allow_unconfirmed_overwrite": True},
                        [schema_msg("s", PROPS), *_records("s", range(10, 12)),
                         state_msg({"n": 1})])
    assert states == [{"n": 1}]
    assert _ids(path) == [10, 11]


def test_marks_are_required_even_when_allowed_once_a_version_was_announced(path):
    config = {"path": str(path), "mode": "overwrite", "allow_unconfirmed_overwrite": True}
    with pytest.raises(ConnectorError, match="overwrite not committed"):
        run_target(config, [schema_msg("s", PROPS), version_msg("s", 7),
                            *_records("s", range(10, 12))])
    assert _ids(path) == [1, 2, 3]


def test_version_carried_by_records_and_one_closing_mark_completes(path):
    """The Stitch convention: later full-table syncs send records of version V, then one
    ACTIVATE_VERSION V at the end."""
    states = run_target({"path": str(path), "mode": "overwrite"},
                        [schema_msg("s", PROPS), *_records("s", range(20, 23), 9),
                         version_msg("s", 9), state_msg({"n": 2})])
    assert states == [{"n": 2}]
    assert _ids(path) == [20, 21, 22]


def test_a_new_version_drops_the_rows_of_an_unfinished_one(path):
    run_target({"path": str(path), "mode": "overwrite", "batch_size_rows": 1},
               [schema_msg("s", PROPS), version_msg("s", 1), *_records("s", range(30, 33)),
                version_msg("s", 2), *_records("s", range(40, 42)), version_msg("s", 2)])
    assert _ids(path) == [40, 41]


def test_a_stream_completes_at_its_mark_while_another_is_left_uncommitted(tmp_path):
    config = {"path": str(tmp_path / "{stream}"), "mode": "overwrite"}
    messages = [schema_msg("a", PROPS), schema_msg("b", PROPS), version_msg("a"),
                version_msg("b"), *_records("a", range(1, 3)), version_msg("a"),
                state_msg({"a": "done"}), *_records("b", range(5, 7))]
    with pytest.raises(ConnectorError, match=r"stream\(s\) b"):
        run_target(config, messages)
    assert _ids(tmp_path / "a") == [1, 2]
    assert not (tmp_path / "b").exists()


def test_append_ignores_the_marks(tmp_path):
    path = tmp_path / "t"
    run_target({"path": str(path), "mode": "append"},
               [schema_msg("s", PROPS), version_msg("s"), *_records("s", range(1, 3))])
    assert _ids(path) == [1, 2]
