"""A threaded local API for pages read ahead: it answers many requests at once, counts how many
are open at the same moment, and can cap page sizes, delay, shorten, fail or stall pages."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class PagesApi:
    """``total`` records ``{"id": i, "updated": i}`` under ``data``, with ``meta.total``.

    Offsets (``offset``/``limit``) or page numbers (``page``/``limit``) select them.
    """

    total: int
    cap: int | None = None
    """Largest page served, whatever ``limit`` asks."""
    max_delay: float = 0.0
    """Each answer waits a random time up to this, so answers come back out of order."""
    short_at: int | None = None
    """The page starting at this offset has 40 records fewer (the data changed under us)."""
    fail_at: int | None = None
    """The page starting at this offset answers HTTP 500, every time."""
    fault_path: str | None = None
    """``fail_at`` and ``truncated_at`` apply to requests to this path only (several streams
    on one API)."""
    stall_from: int | None = None
    """Pages from this offset on are held until ``release`` is set (at most 20 s)."""
    retry_after_at: int | None = None
    """The page at this offset answers 429 with ``Retry-After: 1`` the first time."""
    truncated_at: int | None = None
    """The page at this offset is cut off mid-body the first time."""
    children: int = 0
    """``/parents/{id}/children`` serves this many records ``{"id": id * 1000 + i, "updated":
    i}`` (``offset``/``limit`` pages), for parent→child streams."""
    requests: list[tuple[float, str]] = field(default_factory=list)
    """(arrival time, path and query) of every request, in arrival order."""
    peak_open: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _open: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on 127.0.0.1 for the block; yields the URL of ``/items`` (any other path
        serves the same records)."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body leave at once, not 40 ms apart (Nagle)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                with api._lock:
                    api.requests.append((time.monotonic(), self.path))
                    api._open += 1
                    api.peak_open = max(api.peak_open, api._open)
                try:
                    status, headers, body = api.answer(self.path)
                finally:
                    with api._lock:
                        api._open -= 1
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/items"
        finally:
            self.release.set()
            server.shutdown()
            server.server_close()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        query = {k: int(v[0]) for k, v in parse_qs(urlsplit(path).query).items()
                 if k in ("offset", "limit", "page")}
        limit = min(query.get("limit", 100), self.cap or 10**9)
        offset = query["offset"] if "offset" in query else (query.get("page", 1) - 1) * limit
        if self.max_delay:
            time.sleep(random.uniform(0, self.max_delay))
        if self.stall_from is not None and offset >= self.stall_from:
            self.stalled.set()
            self.release.wait(20)
        if offset == self.fail_at and self.fault_path in (None, urlsplit(path).path):
            return 500, {}, b"broken page"
        if offset == self.retry_after_at:
            self.retry_after_at = None
            return 429, {"Retry-After": "1"}, b"slow down"
        parts = urlsplit(path).path.split("/")
        if self.children and parts[-1] == "children":
            first = int(parts[-2]) * 1000
            rows = [{"id": first + i, "updated": i}
                    for i in range(offset, min(offset + limit, self.children))]
        else:
            end = min(offset + limit, self.total)
            if offset == self.short_at:
                end -= 40
            rows = [{"id": i, "updated": i} for i in range(offset, end)]
        body = json.dumps({"data": rows, "meta": {"total": self.total}}).encode()
        if offset == self.truncated_at and self.fault_path in (None, urlsplit(path).path):
            self.truncated_at = None
            body = body[: len(body) // 2]
        return 200, {"Content-Type": "application/json"}, body

    def paths(self) -> list[str]:
        """Paths and queries requested, in arrival order."""
        return [path for _, path in self.requests]
