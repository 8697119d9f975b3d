"""Reading the data source's options: settings as JSON text or a file, numbers, names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rest_api_core.errors import ConfigError


def settings_option(options: Mapping[str, str], key: str = "config") -> dict[str, Any]:
    """The settings object given as JSON text or as the path of a JSON file."""
    value = options.get(key)
    if not value:
        msg = f"option '{key}': required (the settings as JSON text, or a path to a JSON file)"
        raise ConfigError(msg)
    if value.lstrip().startswith("{"):
        return _decoded(value, f"option '{key}'")
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        msg = f"option '{key}': cannot read settings file {path}: {error.strerror}"
        raise ConfigError(msg) from None
    return _decoded(text, f"option '{key}' (file {path})")


def _decoded(text: str, where: str) -> dict[str, Any]:
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:  # its message quotes no part of the text
        msg = f"{where}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        raise ConfigError(msg) from None
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(settings).__name__}")
    return settings


def positive_int_option(options: Mapping[str, str], key: str, default: int) -> int:
    """An integer option of at least 1."""
    value = options.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"option '{key}': expected a positive integer, got {value!r}")
    return number


def required_option(options: Mapping[str, str], key: str, meaning: str) -> str:
    """A non-empty text option."""
    value = options.get(key)
    if not value:
        raise ConfigError(f"option '{key}': required ({meaning})")
    return value


def choice_option(options: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default)."""
    value = options.get(key) or choices[0]
    if value not in choices:
        raise ConfigError(f"option '{key}': expected one of {', '.join(choices)}, got {value!r}")
    return value
