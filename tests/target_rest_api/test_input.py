"""Bad Singer input fails fast with a clear message and a non-zero exit; no STATE follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_plugin
from tests.target_rest_api.conftest import SinkServer, record_line, schema_line, state_line


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([schema_line("s"), '{"type": "RECORD", "stream": "s", "record": {"id": 1}'],
         "Unable to parse line as JSON"),
        ([record_line("s", {"id": 1})],
         "A record for stream 's' was encountered before a corresponding schema"),
        ([schema_line("s"), record_line("s", {"id": "one"})],
         "Validation Error: id must be integer"),
        ([schema_line("s"), record_line("s", {"name": "no id"})],
         "Validation Error: record must contain ['id'] properties"),
        ([schema_line("s"), record_line("s", {"id": 1, "updated_at": "2025-02-30T00:00:00Z"})],
         "Could not parse value '2025-02-30T00:00:00Z' for field 'updated_at'"),
    ],
    ids=["invalid-json", "record-before-schema", "wrong-type", "missing-required", "bad-date"],
)
def test_bad_input_fails_fast(sink: SinkServer, tmp_path: Path, lines: list[str], expected):
    stdin = "\n".join([*lines, state_line({"n": 1})]) + "\n"

    result = run_plugin("target-rest-api", {"url": sink.url()}, tmp_path, stdin=stdin)

    assert result.returncode != 0
    assert expected in result.stderr.decode()
    assert result.stdout == b""
    assert sink.received == []
