"""Fixtures for the Spark tests: one local Spark session, a paged API and a sink on 127.0.0.1.

Spark runs for real (``local[2,2]``: two cores, a failed task is tried twice). Its JVM and
Python workers write their logs to ``spark_log``, which the tests search for secrets.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pyspark.sql import DataFrame, SparkSession

from rest_connector.cli import main
from spark_rest_api import register
from tests.conftest import CANARY_TOKEN, assert_no_canary

MASTER = "local[2,2]"
SPARK = ("--engine", "spark", "--master", "local[2]")
"""``rest-connector run`` arguments for the Spark engine."""


def item(number: int) -> dict[str, Any]:
    """Record ``number`` of the paged API: every declared type, nested values included."""
    return {
        "id": number,
        "name": f"item {number}",
        "big": 2**60 + number,
        "ratio": number / 8,
        "active": number % 3 != 0,
        "seen_at": f"2025-01-{1 + number % 28:02d}T10:{number % 60:02d}:00Z",
        "day": f"2025-02-{1 + number % 28:02d}",
        "blob": base64.b64encode(f"bytes {number}".encode()).decode(),
        "tags": [f"t{number % 5}", "all"],
        "attrs": {"size": number % 7, "label": f"l{number}"},
    }


DECLARED = [
    {"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
    {"name": "big", "type": "long"}, {"name": "ratio", "type": "double"},
    {"name": "active", "type": "boolean"}, {"name": "seen_at", "type": "timestamp"},
    {"name": "day", "type": "date"}, {"name": "blob", "type": "binary"},
    {"name": "tags", "type": "array"}, {"name": "attrs", "type": "object"},
]
"""The items' fields, declared with the spec's types."""


@dataclass
class PagedApi:
    """``GET /items?offset=&limit=`` under ``data`` with ``meta.total``; bearer auth.

    ``fail_offset``: that page answers 400 with a body echoing the Authorization header.
    ``delay``: seconds each answer waits, so requests overlap; ``most_at_once`` counts them.
    """

    total: int
    url: str = ""
    fail_offset: int | None = None
    delay: float = 0.0
    offsets: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    at_once: int = 0
    most_at_once: int = 0

    def respond(self, handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.headers.get("Authorization") != f"Bearer {CANARY_TOKEN}":
            return 401, {"error": "unauthorized"}
        query = parse_qs(urlsplit(handler.path).query)
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", ["100"])[0])
        with self.lock:
            self.offsets.append(offset)
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        time.sleep(self.delay)
        with self.lock:
            self.at_once -= 1
        if offset == self.fail_offset:
            return 400, {"error": "bad page", "echo": handler.headers.get("Authorization")}
        rows = [item(n) for n in range(offset, min(offset + limit, self.total))]
        return 200, {"data": rows, "meta": {"total": self.total}}


@dataclass
class Sink:
    """``POST /sink`` storing each body by Idempotency-Key, as an idempotent API does.

    ``refuse_first_id``: the first request whose batch starts with that ``id`` answers 400.
    """

    url: str = ""
    refuse_first_id: int | None = None
    requests: list[tuple[str, list[dict]]] = field(default_factory=list)
    refused: list[tuple[str, list[dict]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        sent = (handler.headers.get("Idempotency-Key", ""), json.loads(body))
        with self.lock:
            if sent[1][0].get("id") == self.refuse_first_id and not self.refused:
                self.refused.append(sent)
                return 400, {"error": "refused once"}
            self.requests.append(sent)
        return 200, {"ok": True}

    def stored(self) -> dict[str, list[dict]]:
        """Body per key, keeping the first delivery of each key."""
        kept: dict[str, list[dict]] = {}
        for key, records in self.requests:
            kept.setdefault(key, records)
        return kept


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(*self.server.api.respond(self))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(*self.server.sink.accept(self, body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: PagedApi
    sink: Sink


@pytest.fixture
def local_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def paged_api(local_server: _Server) -> PagedApi:
    """950 items, pages of 100 (the last one short)."""
    host, port = local_server.server_address[:2]
    local_server.api = PagedApi(950, url=f"http://{host}:{port}/items")
    return local_server.api


@pytest.fixture
def sink(local_server: _Server) -> Sink:
    host, port = local_server.server_address[:2]
    local_server.sink = Sink(url=f"http://{host}:{port}/sink")
    return local_server.sink


def items_settings(url: str, schema: list[dict] | None = None) -> dict[str, Any]:
    """Tap settings for the paged API, offset pagination with ``total_field``."""
    stream: dict[str, Any] = {
        "name": "items", "url": url, "auth": {"type": "bearer", "token": CANARY_TOKEN},
        "pagination": {"type": "offset", "page_size": 100, "total_field": "meta.total"},
        "response": {"root_key": "data"},
    }
    if schema is not None:
        stream["schema"] = schema
    return {"streams": [stream]}


def read(spark: SparkSession, settings: dict[str, Any], partitions: int = 4) -> DataFrame:
    """The ``items`` stream of ``settings`` as a DataFrame of the ``rest_api`` data source."""
    return (spark.read.format("rest_api").option("config", json.dumps(settings))
            .option("stream", "items").option("partitions", str(partitions)).load())


@dataclass
class SparkLog:
    """The file Spark's JVM and Python workers write their logs to."""

    path: Path

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int) -> str:
        with self.path.open("rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="session")
def spark_log(tmp_path_factory: pytest.TempPathFactory) -> SparkLog:
    return SparkLog(tmp_path_factory.mktemp("spark") / "spark.log")


@pytest.fixture(scope="session")
def spark(spark_log: SparkLog) -> Iterator[SparkSession]:
    """One local Spark session for the Spark tests, its logs going to ``spark_log``."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    saved = os.dup(2)
    with spark_log.path.open("ab") as log:
        os.dup2(log.fileno(), 2)  # the JVM (and the workers it starts) inherit this stderr
        try:
            session = (SparkSession.builder.master(MASTER).appName("rest-connector tests")
                       .config("spark.ui.enabled", "false")
                       .config("spark.ui.showConsoleProgress", "false")
                       .config("spark.sql.shuffle.partitions", "2")
                       .config("spark.sql.session.timeZone", "UTC")
                       .getOrCreate())
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    register(session)
    yield session
    session.stop()


@pytest.fixture
def on_spark(spark: SparkSession, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch):
    """``rest-connector run --engine spark`` in this process, on the tests' session (the
    engine uses an active session as it is): (exit code, stdout), secrets checked. A JVM
    less to start than a ``rest-connector`` process."""
    def run_here(pipeline, env: dict[str, str], *args: str) -> tuple[int, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(["run", str(pipeline), *args, *SPARK])
        out, err = capsys.readouterr()
        assert spark.range(3).count() == 3  # the engine left the tests' session running
        assert_no_canary(out, err)
        return code, out
    return run_here
