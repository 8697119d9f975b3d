"""End to end: ``tap-rest-api | target-rest-api`` as a real Unix pipe between two servers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import BIN, CANARY_KEY, CANARY_TOKEN, assert_no_canary
from tests.target_rest_api.conftest import SinkServer

CUSTOMERS = [{"customer_id": f"c{i:04d}", "email": f"c{i}@example.com"} for i in range(250)]


def _source_page(request: Request) -> Response:
    """An offset-paginated source that insists on its own credentials."""
    if request.headers.get("Authorization") != f"Bearer {CANARY_TOKEN}":
        return Response(status=401)
    offset, limit = int(request.args.get("offset", 0)), int(request.args["limit"])
    page = CUSTOMERS[offset:offset + limit]
    return Response(json.dumps({"data": page, "meta": {"total": len(CUSTOMERS)}}),
                    content_type="application/json")


def test_tap_piped_into_target_delivers_every_record_exactly_once(
    sink: SinkServer, tmp_path: Path
):
    source = HTTPServer(host="127.0.0.1", port=0)
    source.expect_request("/v1/customers").respond_with_handler(_source_page)
    source.start()
    try:
        tap_config = {"streams": [{
            "name": "customers",
            "url": source.url_for("/v1/customers"),
            "auth": {"type": "bearer", "token": CANARY_TOKEN},
            "pagination": {"type": "offset", "page_size": 100},
            "response": {"root_key": "data"},
            "schema": [{"name": "customer_id", "type": "string"},
                       {"name": "email", "type": "string"}],
        }]}
        target_config = {"url": sink.url("/v1/{stream}"), "batch_size": 40,
                         "auth": {"type": "api_key", "header": "X-Api-Key", "key": CANARY_KEY}}
        (tmp_path / "tap.json").write_text(json.dumps(tap_config))
        (tmp_path / "target.json").write_text(json.dumps(target_config))
        pipeline = (f"{BIN / 'tap-rest-api'} --config tap.json 2>tap.err"
                    f" | {BIN / 'target-rest-api'} --config target.json 2>target.err")

        result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], cwd=tmp_path,
                                capture_output=True, timeout=120, env=os.environ, check=False)
    finally:
        source.clear()
        source.stop()

    logs = (tmp_path / "tap.err").read_text() + (tmp_path / "target.err").read_text()
    assert_no_canary(result.stdout, result.stderr, logs)
    assert result.returncode == 0, logs[-3000:]
    received = [record for batch in sink.batches("/v1/customers") for record in batch]
    assert [r["customer_id"] for r in received] == [c["customer_id"] for c in CUSTOMERS]
    assert [len(batch) for batch in sink.batches()] == [40] * 6 + [10]
    assert all(r.headers["X-Api-Key"] == CANARY_KEY for r in sink.received)
    states = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert states, "the target passed on no STATE"
