"""Helpers for the tap's tests: run the real executable against a local server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import run_plugin, singer_messages


@dataclass
class TapRun:
    """What one tap process did."""

    returncode: int
    messages: list[dict]
    stderr: str

    def records(self, stream: str | None = None) -> list[dict]:
        return [m["record"] for m in self.messages
                if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)]

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]


@pytest.fixture
def tap(tmp_path: Path) -> Callable[..., TapRun]:
    """Run ``tap-rest-api`` with a config dict (and extra CLI args); returns a ``TapRun``."""

    def run(config: dict, *args: str) -> TapRun:
        result = run_plugin("tap-rest-api", config, tmp_path, *args)
        return TapRun(result.returncode, singer_messages(result.stdout), result.stderr.decode())

    return run


@pytest.fixture
def other_server() -> HTTPServer:
    """A second local server: a different origin (another port) from ``httpserver``."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def stream(name: str, url: str, **settings: object) -> dict:
    """One stream's settings."""
    return {"name": name, "url": url, **settings}
