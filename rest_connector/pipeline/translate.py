"""Turning a pipeline file into settings for the tap and one target per output.

The plugins' own settings schemas are the single source of truth: translated settings are
checked against them and each problem is reported at the YAML path and line it came from.
"""

from __future__ import annotations

import copy
import datetime
import importlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rest_api_core.auth_settings import AUTH_TYPES, auth_problems
from rest_api_core.config import SettingsProblem, find_problems, secret_fields
from rest_api_core.redact import SECRETS
from rest_connector.pipeline.load import LoadedYaml, load_yaml
from rest_connector.pipeline.problems import PipelineError, PipelineProblem, YamlPath
from rest_connector.pipeline.render import render_templates

TAP = "tap-rest-api"
PLUGIN_CLASSES = {
    TAP: "tap_rest_api:TapRestApi",
    "target-rest-api": "target_rest_api:TargetRestApi",
    "target-delta": "target_delta:TargetDelta",
}
INPUT_FORMATS = {"rest_api": TAP}
OUTPUT_FORMATS = {"rest_api": "target-rest-api", "delta": "target-delta"}
TRANSFORM_TYPES = ("noop", "stream_maps")


def _formats(names: Mapping[str, str]) -> dict[str, Any]:
    return {"type": "object", "required": ["format"],
            "properties": {"format": {"type": "string", "enum": list(names)}}}


PIPELINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["CONFIG"],
    "additionalProperties": False,
    "properties": {
        "MODEL": {"type": "string"},
        "VERSION": {"type": "string"},
        "CONFIG": {
            "type": "object",
            "required": ["inputs", "outputs"],
            "additionalProperties": False,
            "properties": {
                "inputs": {"type": "object", "minProperties": 1,
                           "additionalProperties": _formats(INPUT_FORMATS)},
                "transform": {
                    "type": "object",
                    "required": ["type"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string", "enum": list(TRANSFORM_TYPES)},
                        "stream_maps": {"type": "object"},
                        "stream_map_config": {"type": "object"},
                    },
                },
                "outputs": {"type": "object", "minProperties": 1,
                            "additionalProperties": _formats(OUTPUT_FORMATS)},
            },
        },
    },
}
"""The pipeline envelope; what is inside each input and output is the plugins' business."""


PLUGIN_SCHEMAS = Path(__file__).with_name("plugin_schemas.json")
"""Each plugin's settings schema as its class builds it, written by scripts/generate_hub.py
(``--check``, run by the tests, fails on drift): reading it instead of importing the plugins
(singer-sdk, pyarrow, ...) keeps ``rest-connector run`` from paying their start-up before the
plugins' own processes start."""


def build_plugin_schema(executable: str) -> dict[str, Any]:
    """The settings schema of a plugin from its class, built-in settings (stream maps, ...)
    included."""
    module_name, class_name = PLUGIN_CLASSES[executable].split(":")
    plugin = getattr(importlib.import_module(module_name), class_name)
    schema = copy.deepcopy(plugin.config_jsonschema)
    plugin.append_builtin_config(schema)
    return schema


@cache
def _plugin_schemas() -> dict[str, dict[str, Any]]:
    return json.loads(PLUGIN_SCHEMAS.read_text(encoding="utf-8"))


def plugin_schema(executable: str) -> dict[str, Any]:
    """The settings schema of a plugin (``PLUGIN_SCHEMAS``)."""
    return _plugin_schemas()[executable]


@dataclass(frozen=True)
class PluginSettings:
    """Settings for one plugin process, and where in the YAML each part came from."""

    executable: str
    name: str
    settings: dict[str, Any]
    origins: tuple[tuple[tuple[str | int, ...], YamlPath], ...]
    """(settings path prefix, YAML path prefix) pairs, most specific first."""

    def yaml_path(self, path: tuple[str | int, ...]) -> YamlPath:
        """The YAML path a settings path came from."""
        for prefix, origin in self.origins:
            if path[: len(prefix)] == prefix:
                return (*origin, *path[len(prefix):])
        return ("CONFIG", *path)

    def secrets(self) -> list[tuple[tuple[str | int, ...], Any]]:
        """``(settings path, value)`` of each secret setting."""
        return [(path, value) for path, value in secret_fields(self.settings,
                                                               plugin_schema(self.executable))
                if isinstance(value, str) and value]


@dataclass(frozen=True)
class Pipeline:
    """A checked pipeline: the tap's settings and one target per output."""

    source: Path
    document: LoadedYaml
    tap: PluginSettings
    targets: tuple[PluginSettings, ...]


def _tap_settings(config: dict[str, Any]) -> PluginSettings:
    streams: list[dict[str, Any]] = []
    origins: list[tuple[tuple[str | int, ...], YamlPath]] = []
    for index, (name, spec) in enumerate(config["inputs"].items()):
        streams.append({"name": name, **{k: v for k, v in spec.items() if k != "format"}})
        origins.append((("streams", index, "name"), ("CONFIG", "inputs", name)))
        origins.append((("streams", index), ("CONFIG", "inputs", name)))
    settings: dict[str, Any] = {"streams": streams}
    _inputs_side_by_side(settings, origins)
    transform = config.get("transform") or {"type": "noop"}
    if transform["type"] == "stream_maps":
        for key in ("stream_maps", "stream_map_config"):
            if key in transform:
                settings[key] = transform[key]
                origins.append(((key,), ("CONFIG", "transform", key)))
    return PluginSettings(TAP, TAP, settings, tuple(origins))


def _inputs_side_by_side(settings: dict[str, Any],
                         origins: list[tuple[tuple[str | int, ...], YamlPath]]) -> None:
    """Several inputs, one with ``concurrency`` above 1: the tap's run-wide ``concurrency`` is
    the largest input's, so the inputs are read side by side under that cap, each within its
    own value (an input without one keeps one request at a time)."""
    streams = settings["streams"]
    shares = {index: stream.get("concurrency") for index, stream in enumerate(streams)}
    valid = {i: n for i, n in shares.items() if type(n) is int and n >= 1}
    if len(streams) < 2 or max(valid.values(), default=1) <= 1:
        return
    widest = max(valid, key=valid.__getitem__)
    settings["concurrency"] = valid[widest]
    origins.append((("concurrency",), ("CONFIG", "inputs", streams[widest]["name"],
                                       "concurrency")))
    for stream in streams:
        stream.setdefault("concurrency", 1)


def _target_settings(name: str, spec: dict[str, Any]) -> PluginSettings:
    settings = {k: v for k, v in spec.items() if k != "format"}
    return PluginSettings(OUTPUT_FORMATS[spec["format"]], name, settings,
                          (((), ("CONFIG", "outputs", name)),))


def _quote_hint(message: str, raw: str | None, secret: bool) -> str:
    """``message``, plus a hint to quote when YAML 1.1 made an unquoted string another type."""
    if raw is None or not message.startswith("expected string"):
        return message
    if secret:
        return f"{message} — YAML reads some unquoted values as non-strings; put this one in quotes"
    return f'{message} — YAML reads the unquoted {raw} as a non-string; write "{raw}" in quotes'


def _values_where(value: Any, matches: Callable[[Any], bool], path: tuple[str | int, ...] = (),
                  ) -> list[tuple[tuple[str | int, ...], Any]]:
    """``(path, value)`` of every value inside ``value`` (itself included) that ``matches``."""
    if matches(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _values_where(v, matches, (*path, k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _values_where(v, matches, (*path, i))]
    return []


def _plugin_problems(plugin: PluginSettings) -> list[SettingsProblem]:
    """The plugin's own checks: its settings schema and, for the tap, how inputs link as
    parent and child (imported here, like the plugin classes, only when needed)."""
    problems = find_problems(plugin.settings, plugin_schema(plugin.executable))
    if plugin.executable == TAP:
        from tap_rest_api import link_problems, response_problems

        problems += link_problems(plugin.settings["streams"])
        problems += response_problems(plugin.settings["streams"])
    return problems


def _is_date(value: Any) -> bool:
    return isinstance(value, (datetime.date, datetime.datetime))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _yaml11_booleans(plugin: PluginSettings, document: LoadedYaml,
                     secrets: set[tuple[str | int, ...]]) -> dict[YamlPath, PipelineProblem]:
    """Booleans written yes/no/on/off (any YAML 1.1 spelling but true/false), by YAML path.

    ``country: NO`` would send ``country=false``; such words almost always mean the text.
    Secret settings are left to the type check, which never repeats their value.
    """
    found: dict[YamlPath, PipelineProblem] = {}
    for path, value in _values_where(plugin.settings, _is_bool):
        yaml_path = plugin.yaml_path(path)
        raw = document.plain_scalars.get(yaml_path)
        if raw is None or raw.lower() in ("true", "false") or path in secrets:
            continue
        became = "true" if value else "false"
        found[yaml_path] = PipelineProblem(
            yaml_path, document.line_of(yaml_path),
            f'YAML 1.1 reads the unquoted {raw} as the boolean {became}: write "{raw}" in '
            f"quotes for the text, or {became} for a boolean (only true and false are read "
            f"as booleans)")
    return found


def _check(plugin: PluginSettings, document: LoadedYaml,
           skip: set[YamlPath]) -> list[PipelineProblem]:
    problems: list[PipelineProblem] = []
    dates = {plugin.yaml_path(path) for path, _ in _values_where(plugin.settings, _is_date)}
    for yaml_path in sorted(dates, key=str):
        raw = document.plain_scalars.get(yaml_path, "value")
        problems.append(PipelineProblem(
            yaml_path, document.line_of(yaml_path),
            f'YAML reads the unquoted {raw} as a date, not a string: write "{raw}" in quotes'))
    secrets = {path for path, _ in secret_fields(plugin.settings,
                                                 plugin_schema(plugin.executable))}
    booleans = _yaml11_booleans(plugin, document, secrets)
    problems.extend(booleans.values())
    for problem in _plugin_problems(plugin):
        yaml_path = plugin.yaml_path(problem.path)
        if (yaml_path in dates or yaml_path in booleans
                or any(yaml_path[: len(s)] == s for s in skip)):
            continue
        message = _quote_hint(problem.message, document.plain_scalars.get(yaml_path),
                              problem.path in secrets)
        problems.append(PipelineProblem(yaml_path, document.line_of(yaml_path), message))
    reported = skip | {problem.path for problem in problems}
    return problems + _auth_problems(plugin, document, reported)


def _auth_blocks(settings: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict]]:
    """Each ``auth`` block of a plugin's settings: the top-level one and each stream's."""
    if isinstance(settings.get("auth"), dict):
        yield ("auth",), settings["auth"]
    for index, stream in enumerate(settings.get("streams") or ()):
        if isinstance(stream, dict) and isinstance(stream.get("auth"), dict):
            yield ("streams", index, "auth"), stream["auth"]


def _auth_problems(plugin: PluginSettings, document: LoadedYaml,
                   reported: set[YamlPath]) -> list[PipelineProblem]:
    """What the plugin would refuse in an auth block (a field its type requires, a field of
    another type), beyond what its settings schema says; not repeating what is ``reported``."""
    problems = []
    for prefix, block in _auth_blocks(plugin.settings):
        if block.get("type") not in AUTH_TYPES:
            continue  # the schema names the type
        for problem in auth_problems(block):
            yaml_path = plugin.yaml_path((*prefix, *problem.path))
            if any(yaml_path[: len(done)] == done for done in reported):
                continue
            problems.append(PipelineProblem(yaml_path, document.line_of(yaml_path),
                                            problem.message))
    return problems


def _envelope_problems(document: LoadedYaml) -> list[PipelineProblem]:
    problems = []
    for problem in find_problems(document.data if document.data is not None else {},
                                 PIPELINE_SCHEMA):
        yaml_path = tuple(problem.path)
        message = _quote_hint(problem.message, document.plain_scalars.get(yaml_path), False)
        problems.append(PipelineProblem(yaml_path, document.line_of(yaml_path), message))
    return sorted(problems, key=lambda p: p.line or 0)


def translate(
    source: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
) -> Pipeline:
    """Load, render and check a pipeline file; raise ``PipelineError`` with every problem."""
    path = Path(source)
    name = str(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PipelineError(name, [PipelineProblem((), None, f"cannot read: "
                                                             f"{error.strerror}")]) from None
    document = load_yaml(text, name)
    problems = _envelope_problems(document)
    if problems:
        raise PipelineError(name, problems)
    data, render_problems = render_templates(
        document, os.environ if env is None else env, variables or {})
    config = data["CONFIG"]
    tap = _tap_settings(config)
    targets = tuple(_target_settings(key, spec) for key, spec in config["outputs"].items())
    skip = {problem.path for problem in render_problems}
    problems = list(render_problems)
    for plugin in (tap, *targets):
        SECRETS.add(*(value for _, value in plugin.secrets()))
        problems.extend(_check(plugin, document, skip))
    if problems:
        raise PipelineError(name, sorted(problems, key=lambda p: (p.line or 0, str(p))))
    return Pipeline(path, document, tap, targets)
