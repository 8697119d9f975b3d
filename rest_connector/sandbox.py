"""The bundled sandbox API: a deterministic fake CRM to try the connector without an account.

- ``GET /api/v2/customers`` (bearer auth): customers in ``created_at`` order, ``page_size``
  (default 100, at most 1000) per page under ``results``, with ``next`` holding the link to the
  next page (absolute, or relative with ``relative_links=True``) or null on the last page.
  ``since`` keeps customers created strictly after the given RFC 3339 time.
  The first time a run asks for page 3, the answer is a 429 with ``Retry-After: 1``.
- ``POST /api/v2/<collection>`` (bearer auth): accepts a JSON batch (an array, or an object with
  one array); ``GET /api/v2/<collection>`` returns what was received, for tests and demos.
- ``GET /healthz``: no auth, for readiness checks.
"""

from __future__ import annotations

import datetime
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_PORT = 8787
DEFAULT_TOKEN = "sandbox-token"
DEFAULT_CUSTOMERS = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
THROTTLED_PAGE = 3
CUSTOMERS_PATH = "/api/v2/customers"

_FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John")
_LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus")
_COUNTRIES = ("DE", "FR", "GB", "US", "JP", "BR", "IN", "NL")
_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def customer(number: int) -> dict[str, Any]:
    """Customer ``number`` (1-based): the same values on every run."""
    first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(number // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
    created = _EPOCH + datetime.timedelta(hours=7 * number)
    return {
        "customer_id": f"C{number:06d}",
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{number}@example.com",
        "country": _COUNTRIES[(number * 7) % len(_COUNTRIES)],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "score": round((number * 37 % 1000) / 10, 1),
        "active": number % 3 != 0,
        "signup_date": (created - datetime.timedelta(days=number % 30)).date().isoformat(),
    }


class SandboxState:
    """Data and bookkeeping shared by the request handlers of one sandbox server."""

    def __init__(self, token: str, customers: int, relative_links: bool) -> None:
        self.token = token
        self.customers = [customer(n) for n in range(1, customers + 1)]
        self.relative_links = relative_links
        self.lock = threading.Lock()
        self.received: dict[str, list[Any]] = {}
        self.throttled: set[tuple[str, int]] = set()

    def should_throttle(self, since: str, offset: int, page_size: int) -> bool:
        """True once per query for its page 3, so clients show a retry."""
        if offset != (THROTTLED_PAGE - 1) * page_size:
            return False
        with self.lock:
            if (since, page_size) in self.throttled:
                return False
            self.throttled.add((since, page_size))
            return True


class _Handler(BaseHTTPRequestHandler):
    server: _SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the connector's own logs tell the story."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server.state.token}":
            return True
        self._send(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"},
                   {"WWW-Authenticate": "Bearer"})
        return False

    def do_GET(self) -> None:
        """Customers, received batches, or the health check."""
        parts = urlsplit(self.path)
        if parts.path == "/healthz":
            self._send(HTTPStatus.OK, {"status": "ok"})
            return
        if not self._authorized():
            return
        if parts.path.rstrip("/") == CUSTOMERS_PATH:
            self._customers(parse_qs(parts.query))
            return
        collection = parts.path.rstrip("/").rsplit("/", 1)[-1]
        with self.server.state.lock:
            batches = list(self.server.state.received.get(collection, []))
        records = [record for batch in batches for record in batch]
        self._send(HTTPStatus.OK, {"batches": len(batches), "results": records})

    def _customers(self, query: dict[str, list[str]]) -> None:
        state = self.server.state
        try:
            page_size = min(int(query.get("page_size", [DEFAULT_PAGE_SIZE])[0]), MAX_PAGE_SIZE)
            offset = int(query.get("offset", ["0"])[0])
        except ValueError:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "page_size and offset are integers"})
            return
        if page_size < 1 or offset < 0:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "page_size >= 1 and offset >= 0"})
            return
        since = query.get("since", [""])[0]
        if state.should_throttle(since, offset, page_size):
            self._send(HTTPStatus.TOO_MANY_REQUESTS, {"error": "slow down"}, {"Retry-After": "1"})
            return
        matching = [c for c in state.customers if c["created_at"] > since]
        page = matching[offset: offset + page_size]
        next_link = None
        if offset + page_size < len(matching):
            next_query = {"offset": offset + page_size, "page_size": page_size}
            if since:
                next_query["since"] = since
            next_link = f"{CUSTOMERS_PATH}?{urlencode(next_query)}"
            if not state.relative_links:
                host, port = self.server.server_address[:2]
                next_link = f"http://{host}:{port}{next_link}"
        self._send(HTTPStatus.OK, {"results": page, "next": next_link,
                                   "total": len(matching)})

    def do_POST(self) -> None:
        """Store one JSON batch under the collection named by the path."""
        if not self._authorized():
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "the body is not JSON"})
            return
        if isinstance(body, dict) and len(body) == 1:
            body = next(iter(body.values()))
        if not isinstance(body, list):
            self._send(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON array of records"})
            return
        collection = urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1]
        with self.server.state.lock:
            self.server.state.received.setdefault(collection, []).append(body)
        self._send(HTTPStatus.OK, {"received": len(body)})


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class SandboxServer:
    """The sandbox API on 127.0.0.1; ``start()`` serves it from a background thread."""

    def __init__(
        self,
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        customers: int = DEFAULT_CUSTOMERS,
        relative_links: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.state = SandboxState(token, customers, relative_links)
        self._server = _SandboxHTTPServer((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8787``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token(self) -> str:
        """The bearer token the sandbox accepts."""
        return self.state.token

    def received(self, collection: str) -> list[list[Any]]:
        """The batches POSTed to ``/api/v2/<collection>``, in arrival order."""
        with self.state.lock:
            return [list(batch) for batch in self.state.received.get(collection, [])]

    def start(self) -> SandboxServer:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="sandbox-api")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
