"""SIGTERM and SIGINT to the tap: a prompt stop, a STATE for what was written, 143 or 130."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import assert_no_canary
from tests.tap.conftest import stream

RELEASE = threading.Event()
ON_PAGE_3 = threading.Event()


def _pages(request: Request) -> Response:
    page = int(request.args.get("page", 1))
    if page == 3:
        ON_PAGE_3.set()
        RELEASE.wait(timeout=20)  # the tap is stopped while it waits here
    rows = [{"id": (page - 1) * 10 + i, "updated_at": f"2025-03-{page:02d}T00:00:{i:02d}Z"}
            for i in range(10)]
    return Response(json.dumps({"data": rows, "next": f"/rows?page={page + 1}"}),
                    content_type="application/json")


@pytest.mark.parametrize(("signum", "expected_code"), [(signal.SIGTERM, 143),
                                                        (signal.SIGINT, 130)])
def test_stop_while_waiting_on_a_page(httpserver: HTTPServer, tmp_path: Path, signum,
                                      expected_code):
    RELEASE.clear()
    ON_PAGE_3.clear()
    httpserver.expect_request("/rows").respond_with_handler(_pages)
    config = {"streams": [stream("rows", httpserver.url_for("/rows"),
                                 pagination={"type": "next_link"}, response={"root_key": "data"},
                                 incremental={"replication_key": "updated_at",
                                              "param": "since", "sorted": True})]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"), "--config",
                             str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert ON_PAGE_3.wait(timeout=30), "the tap never asked for page 3"
    time.sleep(0.3)  # the tap is now waiting for the answer
    proc.send_signal(signum)
    proc.send_signal(signum)  # a second signal must not run the shutdown twice
    stopped = time.monotonic()
    try:
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        RELEASE.set()
    assert time.monotonic() - stopped < 5
    assert proc.returncode == expected_code, stderr.decode()
    assert_no_canary(stdout, stderr)
    messages = [json.loads(line) for line in stdout.decode().splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert [r["id"] for r in records] == list(range(20))
    assert messages[-1]["type"] == "STATE"
    bookmark = messages[-1]["value"]["bookmarks"]["rows"]["replication_key_value"]
    assert bookmark == records[-1]["updated_at"]
    assert stderr.decode().count("stopping after the records already written") == 1
