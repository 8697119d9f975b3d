"""Running ``rest-connector`` as a real process for the init tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, assert_no_canary


def connector(*args: str | Path, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``rest-connector ARGS`` with ``env`` added to the environment; canary-checked."""
    result = subprocess.run([str(BIN / "rest-connector"), *map(str, args)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, **(env or {})}, cwd=cwd,
                            check=False)
    assert_no_canary(result.stdout, result.stderr)
    return result


def inputs_of(path: Path) -> dict:
    """The ``CONFIG.inputs`` of a written pipeline."""
    return yaml.safe_load(path.read_text())["CONFIG"]["inputs"]


@pytest.fixture
def init(tmp_path: Path):
    """Run ``init`` writing ``tmp_path/pipeline.yml``; returns (result, path)."""

    def run(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], Path]:
        output = tmp_path / "pipeline.yml"
        result = connector("init", *args, "--output", output, "--force")
        return result, output

    return run
