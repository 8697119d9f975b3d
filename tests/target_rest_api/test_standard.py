"""The SDK's standard target tests, against a real local sink server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from singer_sdk.testing import get_target_test_class

from target_rest_api.target import TargetRestApi


class _AcceptEverything(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


_server = ThreadingHTTPServer(("127.0.0.1", 0), _AcceptEverything)
threading.Thread(target=_server.serve_forever, daemon=True).start()

TestTargetRestApiStandard = get_target_test_class(
    TargetRestApi,
    config={"url": f"http://127.0.0.1:{_server.server_port}/in/{{stream}}", "batch_size": 3},
)


def test_standard_tests_reached_the_sink() -> None:
    """Runs after the class above: the standard syncs really posted batches."""
    assert _AcceptEverything.received > 0
