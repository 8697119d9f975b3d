"""A small forwarding HTTP proxy on 127.0.0.1 for the tests: it counts the requests it
forwards (and the ``CONNECT`` tunnels it opens for HTTPS) and may require proxy credentials
(``Proxy-Authorization: Basic``)."""

from __future__ import annotations

import base64
import http.client
import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection",
               "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class ForwardProxy:
    """Forwards absolute-form requests (``GET http://host/path``) to their origin."""

    credentials: tuple[str, str] | None = None
    forwarded: list[str] = field(default_factory=list)
    """``METHOD http://host:port/path`` of each request forwarded, ``CONNECT host:port`` of
    each tunnel."""
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _allows(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve for the block; yields the proxy's URL (credentials not included)."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _refused(self) -> bool:
                if proxy._allows(self.headers.get("Proxy-Authorization")):
                    return False
                with proxy._lock:
                    proxy.refused += 1
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def do_CONNECT(self) -> None:
                if self._refused():
                    return
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=30)
                with proxy._lock:
                    proxy.forwarded.append(f"CONNECT {self.path}")
                self.send_response(200)
                self.end_headers()
                _tunnel(self.connection, upstream)
                self.close_connection = True

            def _forward(self) -> None:
                if self._refused():
                    return
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path or "/", body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                with proxy._lock:
                    proxy.forwarded.append(f"{self.command} {self.path.split('?')[0]}")
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = _forward

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _tunnel(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with upstream, selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            for key, _ in selector.select(timeout=30):
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)
