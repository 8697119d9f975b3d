"""A local API whose extraction fails on purpose, and the tap | target-delta pipe to run on it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import BIN

PAGE_SIZE = 10

SCHEMA = [{"name": "id", "type": "long", "nullable": False}, {"name": "name", "type": "string"}]
"""The declared schema of the stream (so SCHEMA goes out before the first request)."""


class FailingApi:
    """``GET /customers?offset=N&limit=10`` on 127.0.0.1 with offset pagination.

    ``total`` records in all; from page ``fail_from_page`` (1-based) on every answer is a 500;
    from page ``stall_from_page`` on an answer waits ``stall_seconds`` first.
    """

    def __init__(self, total: int = 50, fail_from_page: int | None = None,
                 stall_from_page: int | None = None, stall_seconds: float = 30) -> None:
        self.total = total
        self.fail_from_page = fail_from_page
        self.stall_from_page = stall_from_page
        self.stall_seconds = stall_seconds
        self.pages_served = 0
        self.stalled = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/customers"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        offset = int(query.get("offset", ["0"])[0])
        page = offset // PAGE_SIZE + 1
        if self.stall_from_page is not None and page >= self.stall_from_page:
            self.stalled.set()
            time.sleep(self.stall_seconds)
        if self.fail_from_page is not None and page >= self.fail_from_page:
            handler.send_response(500)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        records = [{"id": i, "name": f"new-{i}"}
                   for i in range(offset + 1, min(offset + PAGE_SIZE, self.total) + 1)]
        body = json.dumps(records).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        self.pages_served += 1

    def __enter__(self) -> FailingApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def tap_stream(url: str) -> dict:
    """Tap settings of the ``customers`` stream of ``url`` (full table, failing fast)."""
    return {
        "name": "customers", "url": url, "primary_keys": ["id"], "schema": SCHEMA,
        "pagination": {"type": "offset", "page_size": PAGE_SIZE},
        "rate_limit": {"max_retries": 0},
    }


class Pipe:
    """``tap-rest-api --config tap.json | target-delta --config delta.json`` as OS processes."""

    def __init__(self, tmp_path: Path, tap: dict, target: dict) -> None:
        tap_config, target_config = tmp_path / "tap.json", tmp_path / "delta.json"
        tap_config.write_text(json.dumps(tap))
        target_config.write_text(json.dumps(target))
        self.target_log = tmp_path / "target.log"
        with (tmp_path / "tap.log").open("wb") as tap_err, \
                self.target_log.open("wb") as target_err:
            self.tap = subprocess.Popen([str(BIN / "tap-rest-api"), "--config", str(tap_config)],
                                        stdout=subprocess.PIPE, stderr=tap_err)
            self.target = subprocess.Popen(
                [str(BIN / "target-delta"), "--config", str(target_config)],
                stdin=self.tap.stdout, stdout=subprocess.PIPE, stderr=target_err)
        assert self.tap.stdout is not None
        self.tap.stdout.close()  # the target holds the only reading end

    def finish(self) -> tuple[int, int, list[dict], str]:
        """Exit codes of tap and target, the STATE values the target wrote, its log."""
        target_out, _ = self.target.communicate(timeout=120)
        tap_code = self.tap.wait(timeout=60)
        states = [json.loads(line) for line in target_out.decode().splitlines() if line]
        return tap_code, self.target.returncode, states, self.target_log.read_text()


RUN_PIPELINE = """
MODEL: etl
VERSION: "1.0.0"
CONFIG:
  inputs:
    customers:
      format: rest_api
      url: "{url}"
      primary_keys: [id]
      pagination: {{type: offset, page_size: {page_size}}}
      rate_limit: {{max_retries: 0}}
      schema:
        - {{name: id, type: long, nullable: false}}
        - {{name: name, type: string}}
  outputs:
    customers_delta:
      format: delta
      path: "{path}"
      mode: overwrite
"""


def run_pipeline(tmp_path: Path, url: str, table: Path) -> subprocess.CompletedProcess[str]:
    """``rest-connector run`` of the stream of ``url`` into an overwritten Delta ``table``."""
    path = tmp_path / "nightly.yml"
    path.write_text(RUN_PIPELINE.format(url=url, page_size=PAGE_SIZE, path=table))
    return subprocess.run([str(BIN / "rest-connector"), "run", str(path)], capture_output=True,
                          text=True, timeout=120, check=False, env=dict(os.environ))
