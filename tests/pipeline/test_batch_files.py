"""The fast path: the tap hands records over as Parquet batch files, target-delta commits them.

The table it writes must equal the RECORD path's, row for row and type for type, in every mode,
with a declared schema and with an inferred one that widens mid-stream.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from werkzeug import Request, Response

from tests.conftest import BIN
from tests.pipeline.failing_api import PAGE_SIZE, FailingApi, Pipe, run_pipeline, tap_stream

DECLARED = [
    {"name": "id", "type": "long", "nullable": False}, {"name": "name", "type": "string"},
    {"name": "n", "type": "integer"}, {"name": "score", "type": "double"},
    {"name": "ratio", "type": "float"}, {"name": "ok", "type": "boolean"},
    {"name": "at", "type": "timestamp"}, {"name": "day", "type": "date"},
    {"name": "blob", "type": "binary"}, {"name": "meta", "type": "object"},
    {"name": "tags", "type": "array"},
]


def _record(i: int) -> dict:
    return {"id": i, "name": None if i % 4 == 0 else f"name {i}", "n": 2**53 + i,
            "score": i / 3, "ratio": 0.5, "ok": i % 2 == 0,
            "at": f"2025-03-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
            "day": f"2025-04-{1 + i % 28:02d}",
            "blob": base64.b64encode(bytes([i % 256, 1, 2])).decode(),
            "meta": {"plan": "pro", "seats": i}, "tags": ["a", str(i)]}


def serve_pages(httpserver, widen: bool) -> str:
    """Two pages of things under ``data`` with a next link; with ``widen`` page 2 widens an
    inferred schema (``n`` becomes a number, a nested field arrives)."""
    pages = {1: [_record(i) for i in range(1, 6)], 2: [_record(i) for i in range(6, 9)]}
    if widen:  # integers stay below 2^53, so that int64 -> float64 loses nothing
        pages[1] = [{**r, "n": r["id"]} for r in pages[1]]
        pages[2] = [{**r, "n": r["id"] + 0.5, "extra": {"deep": [1, 2]}} for r in pages[2]]

    def answer(request: Request) -> Response:
        page = int(request.args.get("page", "1"))
        body = {"data": pages[page], "next": f"?page={page + 1}" if page + 1 in pages else None}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/things").respond_with_handler(answer)
    return httpserver.url_for("/things")


def tap_config(url: str, declared: bool, batch_dir: Path | None) -> dict:
    settings: dict = {"streams": [{
        "name": "things", "url": url, "primary_keys": ["id"],
        "pagination": {"type": "next_link"}, "response": {"root_key": "data"},
        **({"schema": DECLARED} if declared else {}),
    }]}
    if batch_dir is not None:
        settings["batch_config"] = {"encoding": {"format": "parquet"},
                                    "storage": {"root": batch_dir.as_uri()}, "batch_size": 4}
    return settings


def _run(tmp_path: Path, tap: dict, target: dict) -> tuple[str, list[dict]]:
    tmp_path.mkdir()
    tap_code, target_code, states, log = Pipe(tmp_path, tap, target).finish()
    assert (tap_code, target_code) == (0, 0), log
    return log, states


def _table(path: Path) -> tuple[object, list[dict]]:
    table = DeltaTable(str(path)).to_pyarrow_table()
    return table.schema, sorted(table.to_pylist(), key=lambda r: r["id"])


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "inferred"])
@pytest.mark.parametrize("mode", ["overwrite", "append", "merge"])
def test_batch_files_write_the_same_table_as_record_messages(httpserver, tmp_path, declared,
                                                             mode):
    url = serve_pages(httpserver, widen=not declared)
    batches = tmp_path / "batches"

    record_log, record_states = _run(tmp_path / "records", tap_config(url, declared, None),
                                     {"path": str(tmp_path / "by-records"), "mode": mode})
    batch_log, batch_states = _run(tmp_path / "files", tap_config(url, declared, batches),
                                   {"path": str(tmp_path / "by-files"), "mode": mode,
                                    "delete_batch_files": True})

    assert "(1 schemas, 8 records, 0 batch manifests" in record_log or not declared
    assert " 0 records, " in batch_log and "0 batch manifests" not in batch_log
    by_records, by_files = _table(tmp_path / "by-records"), _table(tmp_path / "by-files")
    assert by_files[0] == by_records[0]  # the same Arrow schema
    assert by_files[1] == by_records[1]  # the same rows and values
    assert [r["id"] for r in by_files[1]] == list(range(1, 9))
    assert batch_states == record_states != []
    assert list(batches.iterdir()) == []  # every file deleted once committed


def test_tap_cuts_a_file_where_the_inferred_schema_widens(httpserver, tmp_path, tap_messages):
    config = tap_config(serve_pages(httpserver, widen=True), False, tmp_path / "b")
    messages = tap_messages(config)
    kinds = [m["type"] for m in messages if m["type"] != "STATE"]
    assert kinds == ["SCHEMA", "ACTIVATE_VERSION", "BATCH", "BATCH", "SCHEMA", "BATCH",
                     "ACTIVATE_VERSION"]
    files = [Path(m["manifest"][0].removeprefix("file://")) for m in messages
             if m["type"] == "BATCH"]
    assert [pq.read_metadata(f).num_rows for f in files] == [4, 1, 3]
    first, last = (pq.read_schema(files[0]), pq.read_schema(files[2]))
    assert str(first.field("n").type) == "int64" and str(last.field("n").type) == "double"
    assert "extra" not in first.names and "extra" in last.names


@pytest.fixture
def tap_messages(tmp_path):
    def run(config: dict) -> list[dict]:
        path = tmp_path / "tap.json"
        path.write_text(json.dumps(config))
        done = subprocess.run([str(BIN / "tap-rest-api"), "--config", str(path)],
                              capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode()
        return [json.loads(line) for line in done.stdout.decode().splitlines()]
    return run


@pytest.mark.parametrize("mode", ["overwrite", "append"])
def test_a_failed_batch_run_commits_no_file_it_did_not_finish(tmp_path, mode):
    table = tmp_path / "t"
    with FailingApi(fail_from_page=3) as api:
        tap = {"streams": [tap_stream(api.url)], "batch_config": {
            "encoding": {"format": "parquet"}, "storage": {"root": (tmp_path / "b").as_uri()},
            "batch_size": PAGE_SIZE}}
        tap_code, target_code, _, log = Pipe(tmp_path, tap, {"path": str(table),
                                                             "mode": mode}).finish()
    assert tap_code != 0
    if mode == "overwrite":
        assert target_code != 0 and "NOT committed" in log
        assert not table.exists()
    else:  # the two complete files of pages 1 and 2, committed one by one
        assert target_code == 0
        assert sorted(DeltaTable(str(table)).to_pyarrow_table().column("id").to_pylist()) == \
            list(range(1, 2 * PAGE_SIZE + 1))


def test_rest_connector_run_hands_delta_outputs_batch_files(tmp_path):
    with FailingApi(total=95) as api:
        done = run_pipeline(tmp_path, api.url, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "stream customers: 95 records" in done.stdout
    assert "0 records, 1 batch manifests" in done.stderr
    assert DeltaTable(str(tmp_path / "out")).to_pyarrow_table().num_rows == 95
