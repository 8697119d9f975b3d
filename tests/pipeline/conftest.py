"""Fixtures for the pipeline tests: a sandbox API with a canary token, pipeline files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rest_connector.sandbox import SandboxServer
from tests.conftest import CANARY_TOKEN


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox API on a free port, accepting the canary token."""
    with SandboxServer(token=CANARY_TOKEN) as server:
        yield server


@pytest.fixture
def write_pipeline(tmp_path: Path) -> Callable[[str], Path]:
    """Write a pipeline YAML (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "pipeline.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write
