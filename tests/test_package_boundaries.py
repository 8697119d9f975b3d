"""The packages' import rules: core apart from the app, and no cycle between packages.

- ``rest_api_core`` imports none of our packages;
- the plugins (``tap_rest_api``, ``target_rest_api``, ``target_delta``) import only the core and
  themselves;
- ``spark_rest_api`` imports the core and the plugins, never the pipeline app;
- the pipeline app (``rest_connector``) imports the core, and the plugins only through their
  packages' public names (``from tap_rest_api import link_problems``), never their modules.

Every import counts, the ones inside functions too, and so do ``"module:Class"`` strings.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = "rest_api_core"
PLUGINS = ("tap_rest_api", "target_rest_api", "target_delta")
SPARK = "spark_rest_api"
APP = "rest_connector"
PACKAGES = (CORE, *PLUGINS, SPARK, APP)
ALLOWED = {
    CORE: set(),
    **{plugin: {CORE} for plugin in PLUGINS},
    SPARK: {CORE, *PLUGINS},
    APP: {CORE, *PLUGINS, SPARK},
}
IMPORT_STRING = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*):[A-Za-z_]+$")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of one of our packages in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = IMPORT_STRING.match(node.value)
            names = [match.group(1)] if match else []
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield node.lineno, name


def package_sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_package_is_listed():
    found = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert found == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_its_rules_allow(package):
    wrong = []
    for path in package_sources(package):
        for line, module in imported_modules(path):
            target = module.split(".")[0]
            if target == package:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if target not in ALLOWED[package]:
                wrong.append(f"{where} ({package} may import only {sorted(ALLOWED[package])})")
            elif package == APP and target != CORE and module != target:
                wrong.append(f"{where} (the app uses a plugin's public names only)")
    assert wrong == []


def test_no_import_cycle_between_packages():
    edges = {package: set() for package in PACKAGES}
    for package in PACKAGES:
        for path in package_sources(package):
            edges[package] |= {module.split(".")[0] for _, module in imported_modules(path)}
        edges[package].discard(package)

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(step == goal or (step not in seen and reaches(step, goal, seen | {step}))
                   for step in edges[start])

    assert [package for package in PACKAGES if reaches(package, package)] == []


def test_the_base_install_runs_the_tap_and_target_rest_api_without_any_extra(tmp_path):
    """deltalake, pyarrow, pyspark and jinja2 blocked: the tap and target-rest-api still load
    and describe themselves; target-delta and rest-connector name the extra to install."""
    import subprocess
    import sys

    block = ("import sys\nfor name in ('deltalake', 'pyarrow', 'pyspark', 'jinja2'):\n"
             "    sys.modules[name] = None\n")
    base = subprocess.run(
        [sys.executable, "-c", block + "from tap_rest_api import TapRestApi\n"
         "from target_rest_api import TargetRestApi\n"
         "print(TapRestApi.name, TargetRestApi.name)"],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert base.returncode == 0, base.stderr
    assert base.stdout.split() == ["tap-rest-api", "target-rest-api"]

    delta = subprocess.run(
        [sys.executable, "-c", block + "import target_delta; target_delta.cli()"],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert delta.returncode == 1
    assert delta.stderr.strip() == (
        "target-delta: target-delta needs the 'delta' extra (deltalake, pyarrow not installed): "
        "pip install 'rest-api-connector[delta]'")

    app = subprocess.run(
        [sys.executable, "-c", block + "import sys; from rest_connector.cli import main\n"
         "sys.exit(main(['validate', 'pipeline.yml']))"],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert app.returncode == 1
    assert app.stderr.strip() == (
        "rest-connector validate needs the 'pipeline' extra (jinja2 not installed): "
        "pip install 'rest-api-connector[pipeline]'")
    assert "Traceback" not in delta.stderr + app.stderr
