"""A large gzipped JSON-lines export is read with bounded memory: the tap's peak RSS for a
200 MB body stays within 50 MB of its peak for a 10 MB one (the figures for larger bodies are
the benchmark's, bench/streamed_download.py)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import BIN, run_with_peak_rss

LINE_BYTES = 4096
MB = 1024 * 1024


def _gzipped_lines(megabytes: int) -> Iterator[bytes]:
    """``megabytes`` of JSON lines, gzipped as they are made (never held whole)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    filler = "x" * (LINE_BYTES - 40)
    for start in range(0, megabytes * MB // LINE_BYTES, 256):
        lines = "".join(json.dumps({"id": i, "payload": filler}) + "\n"
                        for i in range(start, start + 256))
        yield packer.compress(lines.encode())
    yield packer.flush()


def _export(request: Request) -> Response:
    return Response(_gzipped_lines(int(request.args["mb"])), content_type="application/json")


def _peak_rss_kib(server: HTTPServer, tmp_path: Path, megabytes: int) -> tuple[int, int]:
    config = {"streams": [{
        "name": "events", "url": server.url_for("/export") + f"?mb={megabytes}",
        "response": {"format": "jsonl"},
        "schema": [{"name": "id", "type": "integer"}, {"name": "payload", "type": "string"}]}]}
    path = tmp_path / f"config-{megabytes}.json"
    path.write_text(json.dumps(config))
    # The records are counted by grep in a pipe: the wrapper's peak covers both processes.
    command = (f'"{BIN / "tap-rest-api"}" --config "{path}" '
               """| grep -c '^{"type":"RECORD"'""")
    result, peak = run_with_peak_rss(["sh", "-c", command], timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    records = int(result.stdout)
    return peak, records


def test_a_200_mb_gzipped_jsonl_body_is_read_with_bounded_memory(httpserver, tmp_path):
    httpserver.expect_request("/export").respond_with_handler(_export)
    small_peak, small_records = _peak_rss_kib(httpserver, tmp_path, 10)
    large_peak, large_records = _peak_rss_kib(httpserver, tmp_path, 200)
    assert small_records == 10 * MB // LINE_BYTES
    assert large_records == 200 * MB // LINE_BYTES
    assert large_peak - small_peak < 50 * 1024, (small_peak, large_peak)
