"""Helpers for the Meltano tests: the real ``meltano`` in its own venv, projects in tmp dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MELTANO_VENV = ROOT / ".venv-meltano"
MELTANO = MELTANO_VENV / "bin" / "meltano"
PROJECT_FILES = ("pyproject.toml", "README.md", "rest_api_core", "rest_connector", "tap_rest_api",
                 "target_rest_api", "target_delta")


def ensure_meltano() -> Path:
    """The meltano executable, installed into .venv-meltano on first use."""
    if not MELTANO.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MELTANO_VENV)], check=True)
        subprocess.run([str(MELTANO_VENV / "bin" / "pip"), "install", "-q", "meltano", "uv"],
                       check=True)
    return MELTANO


def repository_copy(directory: Path) -> Path:
    """A project dir that looks like a fresh clone: the sources linked, meltano.yml copied."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        (directory / name).symlink_to(ROOT / name)
    (directory / "meltano.yml").write_text((ROOT / "meltano.yml").read_text())
    return directory


def meltano(project: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real meltano in ``project``."""
    environment = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                   **(env or {})}
    environment.pop("VIRTUAL_ENV", None)
    return subprocess.run([str(ensure_meltano()), *args], cwd=project, capture_output=True,
                          text=True, env=environment, timeout=timeout, check=False)
