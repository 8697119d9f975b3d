"""The Makefile's two commands: the demo installs the runtime alone, the tests add the extras."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def planned(target: str, venv: Path) -> list[str]:
    """The commands ``make <target>`` would run for a fresh virtualenv (``make -n``)."""
    # Run from ``make test`` itself, a nested make would inherit MAKEFLAGS/MAKELEVEL and print
    # "Entering/Leaving directory" lines: this make starts afresh.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
                          cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return done.stdout.splitlines()


def test_demo_installs_the_runtime_without_the_test_extras(tmp_path):
    commands = planned("demo", tmp_path / "venv")
    installs = [c for c in commands if "pip install" in c and "--upgrade pip" not in c]
    assert [c.split("pip install -q ")[1] for c in installs] == ["-e '.[pipeline,delta]'"]
    assert commands[-1] == f"{tmp_path / 'venv'}/bin/rest-connector demo"


def test_test_installs_the_extras_then_runs_ruff_and_pytest(tmp_path):
    commands = planned("test", tmp_path / "venv")
    assert any("pip install" in c and "'.[test" in c for c in commands)
    assert commands[-2:] == [f"{tmp_path / 'venv'}/bin/ruff check .",
                             f"{tmp_path / 'venv'}/bin/pytest -q"]
