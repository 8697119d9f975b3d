"""Fixtures every test module may use: canary secrets and running the plugins as processes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

pytest_plugins = ["tests.oauth2_server", "tests.session_api"]  # token_server, session_api

CANARY_TOKEN = "canary-token-7f3a9c2e51"
CANARY_KEY = "canary-apikey-b81d04e6"
CANARY_USER = "canary-user-5c0e77"
CANARY_PASSWORD = "canary-pass-e92f1a"
CANARY_CLIENT_SECRET = "canary-client-secret-3d9b7a"
CANARY_REFRESH_TOKEN = "canary-refresh-6e1f0c2b"
CANARIES = (CANARY_TOKEN, CANARY_KEY, CANARY_USER, CANARY_PASSWORD, CANARY_CLIENT_SECRET,
            CANARY_REFRESH_TOKEN)
OAUTH2_CLIENT_ID = "connector-client"
CANARY_ISSUED_PREFIX = "canary-issued-"
"""Every access or refresh token the tests' token server issues starts with this."""


def assert_no_canary(*texts: str | bytes) -> None:
    """Fail if any canary secret (raw, URL-encoded or inside basic auth), any token the
    tests' servers issued or any line of the tests' private keys shows up."""
    import base64
    from urllib.parse import quote

    from tests.auth_keys import key_canaries

    forms = set(CANARIES) | {quote(c, safe="") for c in CANARIES} | {CANARY_ISSUED_PREFIX}
    forms |= key_canaries()
    forms.add(base64.b64encode(f"{CANARY_USER}:{CANARY_PASSWORD}".encode()).decode())
    forms.add(base64.b64encode(f"{OAUTH2_CLIENT_ID}:{CANARY_CLIENT_SECRET}".encode()).decode())
    for text in texts:
        blob = text.decode(errors="replace") if isinstance(text, bytes) else text
        leaked = [form for form in forms if form in blob]
        assert not leaked, f"secret leaked: {leaked}"


def run_plugin(
    executable: str,
    config: dict,
    tmp_path: Path,
    *args: str,
    stdin: str | bytes | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """Run a plugin executable with ``config`` written to a file; canary-check its output."""
    config_path = tmp_path / f"{executable}-config.json"
    config_path.write_text(json.dumps(config))
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [str(BIN / executable), "--config", str(config_path), *args],
        input=data,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert_no_canary(result.stdout, result.stderr)
    return result


_PEAK_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "sys.stderr.write(f'\\nPEAK_RSS_KIB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
    "sys.exit(code)\n"
)


def run_with_peak_rss(
    args: list[str], **kwargs: object
) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """Run ``args`` and return its result and its own peak RSS in KiB.

    It is started from a small wrapper interpreter: a child forked straight from pytest would
    count pytest's memory as its own (the peak RSS includes the moment before ``exec``).
    """
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS_WRAPPER, *args],
                            capture_output=True, check=False, **kwargs)
    stderr, _, peak = result.stderr.rpartition(b"\nPEAK_RSS_KIB=")
    result.stderr = stderr
    return result, int(peak)


class RunningPlugin:
    """A plugin executable fed through a pipe, its stderr collected as it arrives.

    For signal tests: write input, send signals, then ``finish`` for the exit code, the STATE
    values on stdout and stderr (both checked for canary secrets).
    """

    READY = b"parse of env var settings"
    """The SDK logs this just before it installs its signal handlers."""

    def __init__(self, executable: str, config: dict, tmp_path: Path) -> None:
        path = tmp_path / f"{executable}.json"
        path.write_text(json.dumps(config))
        self.process = subprocess.Popen(
            [str(BIN / executable), "--config", str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._stderr: list[bytes] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            if self.READY in line:
                self._ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the plugin handles signals itself."""
        assert self._ready.wait(timeout), f"{self.process.args[0]} did not start"

    def write(self, text: str) -> None:
        """Send ``text`` to the plugin's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def read_line(self) -> bytes:
        """Block until the plugin writes its next stdout line."""
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 60, *, end_input: bool = False,
               ) -> tuple[int, list[dict], str]:
        """Wait for the exit (after closing stdin if ``end_input``); exit code, STATE values,
        stderr (checked for secrets)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        if end_input:
            self.process.stdin.close()
        returncode = self.process.wait(timeout)
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        self._reader.join(10)
        stdout, stderr = self.process.stdout.read(), b"".join(self._stderr)
        assert_no_canary(stdout, stderr)
        states = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
        return returncode, states, stderr.decode()


class RawServer:
    """A socket server on 127.0.0.1 for faults HTTP servers will not commit: it answers each
    connection, in order, with one callable taking the socket, and keeps every request."""

    def __init__(self, answers: Sequence[Callable[[socket.socket], None]]) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port: int = self._listener.getsockname()[1]
        self.stamps: list[float] = []
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, args=(answers,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self, answers: Sequence[Callable[[socket.socket], None]]) -> None:
        with self._listener:
            for answer in answers:
                conn, _ = self._listener.accept()
                self.stamps.append(time.monotonic())
                with conn:
                    self.requests.append(_read_request(conn))
                    with contextlib.suppress(OSError):  # the client may hang up first
                        answer(conn)


def _read_request(conn: socket.socket) -> bytes:
    """One whole HTTP request: its head, then ``Content-Length`` bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def singer_messages(stdout: bytes) -> list[dict]:
    """Parse a plugin's stdout as Singer messages (fails on any non-JSON line)."""
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


@pytest.fixture
def canaries() -> tuple[str, ...]:
    """The canary secret values; use them as credentials so leaks are caught."""
    return CANARIES


def assert_drain_gave_up(outcome: tuple[int, list[dict], str], started: float,
                         within: float, deadline: int = 1) -> None:
    """A drain that outlived ``drain_deadline``: the plugin ended within ``within`` seconds
    of the signal sent at ``started``, with exit 1, no STATE and the reason logged."""
    returncode, states, stderr = outcome
    assert time.monotonic() - started < within
    assert returncode == 1, stderr
    assert states == []
    assert f"not delivered within {deadline} s of SIGTERM" in stderr
