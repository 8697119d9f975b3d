"""Benchmark: the tap's peak RSS reading one streamed export of 10 MB to 1 GB.

A local server (its own process) makes each body as it sends it: JSON lines gzipped on the fly
(a Mixpanel-like export), plain CSV, and CSV in a zip (built once per size in a temporary
file). The tap reads each with a declared schema, writing RECORD messages to /dev/null. Peak
RSS must not grow by more than 50 MB from the smallest body to the largest.

    .venv/bin/python bench/streamed_download.py [--sizes 10 200 1000] [--kinds jsonl.gz csv csv.zip]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tap import run_tap_config

MB = 1024 * 1024
LINE_BYTES = 1024
KINDS = ("jsonl.gz", "csv", "csv.zip")


def _lines(kind: str, megabytes: int) -> Iterator[bytes]:
    """``megabytes`` of records, 256 lines at a time; CSV with a header first."""
    filler = "x" * (LINE_BYTES - 60)
    if kind != "jsonl.gz":
        yield b"id,country,payload\n"
    for start in range(0, megabytes * MB // LINE_BYTES, 256):
        if kind == "jsonl.gz":
            rows = (json.dumps({"id": i, "country": "NL", "payload": filler}) + "\n"
                    for i in range(start, start + 256))
        else:
            rows = (f'{i},NL,"{filler}"\n' for i in range(start, start + 256))
        yield "".join(rows).encode()


def _gzipped(pieces: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    for piece in pieces:
        yield packer.compress(piece)
    yield packer.flush()


def _zipped(megabytes: int, folder: Path) -> Path:
    path = folder / f"{megabytes}.zip"
    if not path.exists():
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive, \
                archive.open("export.csv", "w", force_zip64=True) as member:
            for piece in _lines("csv", megabytes):
                member.write(piece)
    return path


def serve(port_file: str) -> None:
    """Serve ``/export?kind=...&mb=N`` with chunked transfer encoding."""
    folder = Path(tempfile.mkdtemp(prefix="bench-zips-"))

    class Exports(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            kind, megabytes = query["kind"][0], int(query["mb"][0])
            if kind == "csv.zip":
                pieces: Iterator[bytes] = _file_pieces(_zipped(megabytes, folder))
            elif kind == "jsonl.gz":
                pieces = _gzipped(_lines(kind, megabytes))
            else:
                pieces = _lines(kind, megabytes)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in pieces:
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Exports)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(MB):
            yield piece


def _config(url: str, kind: str) -> dict:
    fields = [{"name": "id", "type": "integer"}, {"name": "country", "type": "string"},
              {"name": "payload", "type": "string"}]
    return {"streams": [{"name": "export", "url": url, "schema": fields,
                         "response": {"format": "jsonl" if kind == "jsonl.gz" else "csv"}}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200, 1000],
                        help="body sizes in MB (before compression)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    args = parser.parse_args()
    port_file = tempfile.mktemp()
    server = threading.Thread(target=serve, args=(port_file,), daemon=True)
    server.start()
    while not os.path.exists(port_file) or not Path(port_file).read_text():
        time.sleep(0.05)
    base = f"http://127.0.0.1:{Path(port_file).read_text()}/export"
    print("tap-rest-api, one streamed export: peak RSS by body size")
    for kind in args.kinds:
        peaks = []
        for megabytes in args.sizes:
            seconds, rss = run_tap_config(_config(f"{base}?kind={kind}&mb={megabytes}", kind))
            peaks.append(rss)
            print(f"  {kind:>8} {megabytes:>5} MB: {megabytes / seconds:>6.1f} MB/s, "
                  f"peak RSS {rss / 1024:.0f} MiB")
        growth = (max(peaks) - peaks[0]) / 1024
        print(f"  {kind:>8} growth from {args.sizes[0]} MB to {args.sizes[-1]} MB: "
              f"{growth:.0f} MiB ({'ok' if growth <= 50 else 'OVER 50 MB'})")
        if growth > 50:
            sys.exit(1)


if __name__ == "__main__":
    main()
