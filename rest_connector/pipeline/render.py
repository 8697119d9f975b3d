"""Rendering the Jinja templates of a pipeline file, sandboxed and bounded in time and memory.

Every string value that contains template syntax is rendered exactly once, with the variables
``env`` (the process environment), ``dt`` and any ``--var name=value``. A variable given an
empty value counts as unset, so ``{{ dt | default('2025-01-01') }}`` takes its default both when
``dt`` is not passed and when it is passed empty (``--var dt=``). Rendering happens in a child
process with a memory limit and a deadline, so no template can exhaust the caller.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from rest_connector.pipeline.load import LoadedYaml
from rest_connector.pipeline.problems import PipelineProblem, YamlPath

RENDER_TIMEOUT_SECONDS = 5.0
RENDER_MEMORY_BYTES = 256 * 1024 * 1024
_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def is_template(value: object) -> bool:
    """True for a string that contains Jinja syntax."""
    return isinstance(value, str) and any(marker in value for marker in _TEMPLATE_MARKERS)


def template_variables(assignments: Mapping[str, str]) -> dict[str, str]:
    """The ``--var`` values that count as set (an empty value counts as unset)."""
    return {name: value for name, value in assignments.items() if value != ""}


def _collect(value: Any, path: YamlPath, found: dict[YamlPath, str]) -> None:
    if is_template(value):
        found[path] = value
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, (*path, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, (*path, index), found)


def _replace(value: Any, path: YamlPath, rendered: Mapping[YamlPath, str]) -> Any:
    if path in rendered:
        return rendered[path]
    if isinstance(value, dict):
        return {key: _replace(item, (*path, key), rendered) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, (*path, i), rendered) for i, item in enumerate(value)]
    return value


def _run_worker(
    templates: dict[str, str], env: Mapping[str, str], variables: Mapping[str, str]
) -> tuple[dict[str, dict[str, str]], str | None]:
    """Results of one child run, and why it stopped early (None when it finished)."""
    request = json.dumps({
        "templates": templates, "env": dict(env), "variables": dict(variables),
        "memory_bytes": RENDER_MEMORY_BYTES,
    })
    stopped: str | None = None
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rest_connector.pipeline.template_worker"],
            input=request.encode(), capture_output=True, timeout=RENDER_TIMEOUT_SECONDS,
            check=False,
        )
        output = done.stdout
        if done.returncode != 0:
            stopped = "rendering failed: the template needs more memory than rendering may use"
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or b""
        stopped = f"rendering took longer than {RENDER_TIMEOUT_SECONDS:g} s"
    results = {}
    for line in output.decode().splitlines():
        if line.endswith("}"):
            result = json.loads(line)
            results[result.pop("id")] = result
    return results, stopped


def _render_bounded(
    templates: dict[str, str], env: Mapping[str, str], variables: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Render in child processes; a template that stops its child fails alone, the rest go on."""
    results: dict[str, dict[str, str]] = {}
    pending = dict(templates)
    while pending:
        done, stopped = _run_worker(pending, env, variables)
        results.update(done)
        pending = {key: text for key, text in pending.items() if key not in done}
        if pending:
            culprit = next(iter(pending))
            results[culprit] = {"error": stopped or "rendering stopped unexpectedly"}
            del pending[culprit]
    return results


def render_templates(
    loaded: LoadedYaml, env: Mapping[str, str], variables: Mapping[str, str]
) -> tuple[Any, list[PipelineProblem]]:
    """The document with every template rendered, and a problem for each that failed."""
    found: dict[YamlPath, str] = {}
    _collect(loaded.data, (), found)
    if not found:
        return loaded.data, []
    keys = {str(index): path for index, path in enumerate(found)}
    results = _render_bounded({key: found[path] for key, path in keys.items()}, env,
                          template_variables(variables))
    rendered: dict[YamlPath, str] = {}
    problems: list[PipelineProblem] = []
    for key, path in keys.items():
        outcome = results[key]
        if "error" in outcome:
            problems.append(PipelineProblem(path, loaded.line_of(path), outcome["error"]))
        else:
            rendered[path] = outcome["value"]
    return _replace(loaded.data, (), rendered), problems
