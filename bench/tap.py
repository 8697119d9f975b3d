"""Benchmark: tap-rest-api against a plain requests + json loop reading the same pages.

A local API (its own process) serves N records with offset pagination. Both readers fetch every
page, parse it and write each record as one JSON line to /dev/null; the tap does it as Singer
RECORD messages through the SDK. Prints records/s, the ratio and the tap's peak RSS.

    .venv/bin/python bench/tap.py [--records 100000] [--page-sizes 100 1000] [--rss 10000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, urlsplit

import requests

BIN = Path(sys.executable).parent
CHILDREN = 20
"""Children of each record at ``/parents/{id}/children``."""


def _record(i: int) -> dict:
    return {"id": i, "name": f"customer {i}", "email": f"c{i}@example.com", "country": "NL",
            "created_at": "2025-01-02T03:04:05Z", "score": i / 7, "active": i % 2 == 0,
            "plan": {"tier": "pro", "seats": i % 50}, "tags": ["a", "b"], "note": None}


def serve(total: int, port_file: str, latency: float = 0.0) -> None:
    """Serve ``total`` records under ``data`` (and ``meta.total``) with offset/limit, caching
    each page's bytes; each answer waits ``latency`` seconds first, as a remote API would.

    ``GET /parents/{id}/children`` answers that record's 20 children (no pagination).
    ``GET /_stats`` answers the requests served and the most that were open at once since the
    last ``GET /_stats?reset=1``.
    """
    cache: dict[tuple[int, int], bytes] = {}
    stats = {"requests": 0, "open": 0, "peak_open": 0}
    lock = threading.Lock()

    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            if self.path.startswith("/_stats"):
                with lock:
                    body = json.dumps(stats).encode()
                    if "reset=1" in self.path:
                        stats.update(requests=0, peak_open=0)
                self._send(body)
                return
            with lock:
                stats["requests"] += 1
                stats["open"] += 1
                stats["peak_open"] = max(stats["peak_open"], stats["open"])
            try:
                page = self._page()
            finally:  # closed once answered (as the tests' server counts): a client that has
                with lock:  # read the answer may send its next request before this thread runs
                    stats["open"] -= 1
            self._send(page)

        def _page(self) -> bytes:
            time.sleep(latency)
            if self.path.endswith("/children"):
                parent = int(self.path.split("/")[-2])
                rows = [{"id": parent * CHILDREN + k, "parent_id": parent, "title": f"child {k}"}
                        for k in range(CHILDREN)]
                return json.dumps({"data": rows}).encode()
            query = parse_qs(urlsplit(self.path).query)
            offset, limit = int(query["offset"][0]), int(query["limit"][0])
            key = (offset, limit)
            body = cache.get(key)
            if body is None:
                if len(cache) > 64:
                    cache.clear()
                rows = [_record(i) for i in range(offset, min(offset + limit, total))]
                body = cache[key] = json.dumps({"data": rows, "meta": {"total": total}}).encode()
            return body

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def start_server(total: int, latency: float = 0.0) -> tuple[subprocess.Popen, str]:
    port_file = tempfile.mktemp()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(total), port_file,
                             str(latency)])
    while not os.path.exists(port_file) or not Path(port_file).read_text():
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{Path(port_file).read_text()}/customers"


def plain_loop(url: str, page_size: int) -> int:
    """The baseline: requests + json, each record written as a JSON line."""
    session = requests.Session()
    offset = count = 0
    with open(os.devnull, "w") as sink:
        while True:
            page = session.get(url, params={"offset": offset, "limit": page_size}).json()["data"]
            for record in page:
                sink.write(json.dumps(record) + "\n")
            count += len(page)
            offset += len(page)
            if len(page) < page_size:
                return count


def run_tap(url: str, page_size: int, settings: dict | None = None,
            output: IO[bytes] | None = None) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one tap run reading every record; ``settings`` are added
    to the stream's (``pagination`` merged), its output goes to ``output`` or /dev/null."""
    settings = dict(settings or {})
    pagination = {"type": "offset", "page_size": page_size, **settings.pop("pagination", {})}
    config = {"streams": [{"name": "customers", "url": url, "pagination": pagination,
                           "response": {"root_key": "data"}, **settings}]}
    return run_tap_config(config, output)


def run_tap_config(config: dict, output: IO[bytes] | None = None) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one tap run with ``config``; its output goes to
    ``output`` or /dev/null."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen([str(BIN / "tap-rest-api"), "--config", handle.name],
                                stdout=output or sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"tap failed with status {status}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rss", type=int, nargs="*", default=[10_000, 1_000_000],
                        help="record counts at which to compare the tap's peak RSS")
    args = parser.parse_args()

    proc, url = start_server(args.records)
    try:
        print(f"tap-rest-api vs requests+json, {args.records} records")
        for page_size in args.page_sizes:
            started = time.perf_counter()
            count = plain_loop(url, page_size)
            loop_rate = count / (time.perf_counter() - started)
            seconds, rss = run_tap(url, page_size)
            tap_rate = args.records / seconds
            print(f"  page_size {page_size:>5}: tap {tap_rate:>9,.0f} rec/s, loop "
                  f"{loop_rate:>9,.0f} rec/s, ratio {tap_rate / loop_rate:.2f}x, "
                  f"tap peak RSS {rss / 1024:.0f} MiB")
    finally:
        proc.terminate()
    for total in args.rss:
        proc, url = start_server(total)
        try:
            seconds, rss = run_tap(url, 1000)
            print(f"  {total:>9,} records: {total / seconds:>9,.0f} rec/s, "
                  f"peak RSS {rss / 1024:.0f} MiB")
        finally:
            proc.terminate()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    else:
        main()
