"""A recording sink server and Singer input builders for the target-rest-api tests."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import RunningPlugin

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "score": {"type": ["number", "null"]},
    },
    "required": ["id"],
}


@dataclass(frozen=True)
class Received:
    """One request the sink server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> object:
        return json.loads(self.body)


class SinkServer:
    """Records every request; answers scripted responses first, then ``default``."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.received: list[Received] = []
        self.default: Callable[[Received], Response] = lambda _: Response(status=200)
        self._script: list[Response | Callable[[Received], Response]] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak_in_flight = 0
        """The most requests being answered at once (more than 1 only on a threaded server)."""
        server.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    def url(self, path: str = "/in/{stream}") -> str:
        return f"http://{self.server.host}:{self.server.port}{path}"

    def then(self, *responses: Response | Callable[[Received], Response]) -> None:
        """Answer the next requests with these, in order."""
        self._script.extend(responses)

    def _handle(self, request: Request) -> Response:
        got = Received(request.method, request.path, dict(request.headers), request.get_data(),
                       request.query_string.decode())
        with self._lock:
            self.received.append(got)
            answer = self._script.pop(0) if self._script else self.default
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return (answer(got) if callable(answer) and not isinstance(answer, Response)
                    else answer)
        finally:
            with self._lock:
                self._in_flight -= 1

    def batches(self, path: str | None = None) -> list[list[dict]]:
        """Bodies (JSON arrays) of the requests, optionally only those sent to ``path``."""
        return [r.json for r in self.received if path is None or r.path == path]  # type: ignore[misc]

    def ids(self, path: str | None = None) -> list[int]:
        return [record["id"] for batch in self.batches(path) for record in batch]


@pytest.fixture
def sink(httpserver: HTTPServer) -> SinkServer:
    return SinkServer(httpserver)


@pytest.fixture
def threaded_sink() -> Iterator[SinkServer]:
    """A sink server answering each request in its own thread, for batches in flight."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield SinkServer(server)
    finally:
        server.clear()
        server.stop()


def schema_line(stream: str, schema: dict | None = None) -> str:
    return json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema or SCHEMA,
                       "key_properties": ["id"]})


def record_line(stream: str, record: dict) -> str:
    return json.dumps({"type": "RECORD", "stream": stream, "record": record})


def state_line(value: dict) -> str:
    return json.dumps({"type": "STATE", "value": value})


def singer_input(stream: str, ids: Iterable[int], state: dict | None = None) -> str:
    """SCHEMA, one RECORD per id, then an optional STATE, as Singer lines."""
    lines = [schema_line(stream), *(record_line(stream, {"id": i}) for i in ids)]
    if state is not None:
        lines.append(state_line(state))
    return "\n".join(lines) + "\n"


class RunningTarget(RunningPlugin):
    """target-rest-api as a child process fed through a pipe, for signal and timing tests."""

    def __init__(self, config: dict, tmp_path: Path) -> None:
        super().__init__("target-rest-api", config, tmp_path)

    def write(self, *lines: str) -> None:  # type: ignore[override]
        super().write("\n".join(lines) + "\n")

    def read_state(self) -> dict:
        """Block until the target writes its next line (a STATE) and return its value."""
        return json.loads(self.read_line())

    def stop(self, signum: int = signal.SIGTERM) -> None:
        self.send_signal(signum)
