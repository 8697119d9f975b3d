"""The SDK's standard tap tests, against a local API with a declared and an inferred stream."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_rest_api.tap import TapRestApi

USERS = [{"id": i, "email": f"user{i}@example.com", "updated_at": f"2025-02-{i:02d}T10:00:00Z",
          "score": i / 4} for i in range(1, 26)]


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["10"])[0])
        body = json.dumps({"data": USERS[offset:offset + limit]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


_server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
threading.Thread(target=_server.serve_forever, daemon=True).start()
_url = f"http://127.0.0.1:{_server.server_address[1]}/users"

SAMPLE_CONFIG = {
    "streams": [
        {"name": "users_declared", "url": _url, "primary_keys": ["id"],
         "pagination": {"type": "offset", "page_size": 10}, "response": {"root_key": "data"},
         "incremental": {"replication_key": "updated_at", "param": "since", "sorted": True},
         "schema": [{"name": "id", "type": "long"}, {"name": "email", "type": "string"},
                    {"name": "updated_at", "type": "timestamp"},
                    {"name": "score", "type": "double"}]},
        {"name": "users_inferred", "url": _url, "primary_keys": ["id"],
         "pagination": {"type": "offset", "page_size": 10}, "response": {"root_key": "data"}},
    ],
}

TestTapStandard = get_tap_test_class(TapRestApi, config=SAMPLE_CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _stop_server():
    yield
    _server.shutdown()
    _server.server_close()
