"""Records on their way to a batch: checked per batch before sending, mapped, with metadata."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.conftest import run_plugin
from tests.target_rest_api.conftest import SinkServer, record_line, schema_line, state_line


def _input(records: list[dict], state: dict | None = None) -> str:
    lines = [schema_line("s"), *(record_line("s", record) for record in records)]
    if state is not None:
        lines.append(state_line(state))
    return "\n".join(lines) + "\n"


def test_a_bad_record_stops_the_run_before_its_batch_is_sent(sink: SinkServer, tmp_path: Path):
    records = [{"id": i} for i in range(250)]
    records[150] = {"id": "one hundred fifty"}
    stdin = _input(records[:100], state={"at": 100}) + _input(records[100:])

    result = run_plugin("target-rest-api", {"url": sink.url(), "batch_size": 100}, tmp_path,
                        stdin=stdin)

    assert result.returncode != 0
    assert "id must be integer (record 150 of stream 's')" in result.stderr.decode()
    assert sink.ids() == list(range(100))
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"at": 100}]


def test_a_missing_key_property_names_the_record(sink: SinkServer, tmp_path: Path):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    stdin = "\n".join([schema_line("s", schema), record_line("s", {"id": 1}),
                       record_line("s", {"other": 2})]) + "\n"

    result = run_plugin("target-rest-api", {"url": sink.url()}, tmp_path, stdin=stdin)

    assert result.returncode != 0
    assert "Key properties ['id'] missing in record 1 of stream 's'" in result.stderr.decode()
    assert sink.received == []


def test_stream_maps_transform_records_which_are_still_checked(sink: SinkServer, tmp_path: Path):
    settings = {
        "url": sink.url(),
        "stream_maps": {"s": {"__alias__": "people", "label": "'#' + str(id)", "name": None}},
    }
    good = _input([{"id": 1, "name": "a", "updated_at": "2025-01-02 03:04:05+00:00"}])

    result = run_plugin("target-rest-api", settings, tmp_path, stdin=good)

    assert result.returncode == 0, result.stderr.decode()
    assert sink.batches("/in/people") == [
        [{"id": 1, "updated_at": "2025-01-02T03:04:05Z", "label": "#1"}]
    ]

    bad = _input([{"id": 2}, {"id": 3, "updated_at": "yesterday"}])
    result = run_plugin("target-rest-api", settings, tmp_path, stdin=bad)

    assert result.returncode != 0
    assert ("Could not parse value 'yesterday' for field 'updated_at' (date-time expected) "
            "(record 1 of stream 'people')") in result.stderr.decode()
    assert len(sink.received) == 1


def test_record_metadata_is_added_on_request_and_dropped_otherwise(
    sink: SinkServer, tmp_path: Path
):
    stdin = _input([{"id": 1, "_sdc_sequence": 7, "_sdc_deleted_at": None}])

    plain = run_plugin("target-rest-api", {"url": sink.url()}, tmp_path, stdin=stdin)
    with_metadata = run_plugin("target-rest-api",
                               {"url": sink.url(), "add_record_metadata": True}, tmp_path,
                               stdin=stdin)

    assert plain.returncode == 0, plain.stderr.decode()
    assert with_metadata.returncode == 0, with_metadata.stderr.decode()
    first, second = sink.batches()
    assert first == [{"id": 1}]
    assert {"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence"} <= set(second[0])
    assert second[0]["_sdc_sequence"] != 7  # the target's own sequence, not the input's


def test_fields_without_schema_are_sent_and_warned_about_once(sink: SinkServer, tmp_path: Path):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    lines = [schema_line("s", schema)] + [record_line("s", {"id": i, "extra": i})
                                          for i in range(3)]

    result = run_plugin("target-rest-api", {"url": sink.url()}, tmp_path,
                        stdin="\n".join(lines) + "\n")

    assert result.returncode == 0, result.stderr.decode()
    assert sink.batches() == [[{"id": i, "extra": i} for i in range(3)]]
    assert result.stderr.decode().count("No schema for field 'extra' of stream 's'") == 1


def test_a_batch_file_is_checked_and_sent_batch_size_per_request(
    sink: SinkServer, tmp_path: Path
):
    batch_file = tmp_path / "people-0001.jsonl.gz"
    with gzip.open(batch_file, "wt", encoding="utf-8") as out:
        for i in range(250):
            out.write(json.dumps({"id": i, "updated_at": "2025-01-02 03:04:05+00:00"}) + "\n")
    batch = {"type": "BATCH", "stream": "s", "manifest": [batch_file.as_uri()],
             "encoding": {"format": "jsonl", "compression": "gzip"}}
    stdin = "\n".join([schema_line("s"), record_line("s", {"id": -1}), json.dumps(batch),
                       state_line({"done": 1})]) + "\n"

    result = run_plugin("target-rest-api", {"url": sink.url(), "batch_size": 100}, tmp_path,
                        stdin=stdin)

    assert result.returncode == 0, result.stderr.decode()
    assert [len(batch) for batch in sink.batches()] == [100, 100, 51]
    assert sink.ids() == list(range(-1, 250))
    assert {r.get("updated_at") for batch in sink.batches() for r in batch} == {
        None, "2025-01-02T03:04:05Z"
    }
    assert result.stdout.decode().splitlines() == ['{"done": 1}']
