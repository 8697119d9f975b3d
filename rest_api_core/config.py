"""Strict settings validation: unknown keys, wrong types and values, each named by its path."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from rest_api_core.redact import MASK, SECRETS
from rest_api_core.sdk_seam import ConfigCheckHook

_JSON_TYPE_NAMES = {
    bool: "boolean", int: "integer", float: "number", str: "string",
    list: "array", dict: "object", type(None): "null",
}


@dataclass(frozen=True)
class SettingsProblem:
    """One problem in a settings document, at ``path`` (keys and list indexes)."""

    path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}"


def format_path(path: Iterable[str | int]) -> str:
    """``streams[0].pagination.type`` from ``("streams", 0, "pagination", "type")``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def _shown(value: Any, schema: dict) -> str:
    if schema.get("secret") or schema.get("writeOnly"):
        return repr(MASK)
    return SECRETS.redact(repr(value))


def _expected_types(schema: dict) -> str:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds if k != "null"]
    return " or ".join(kinds) or "a valid value"


def _problems(error: ValidationError) -> list[SettingsProblem]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        return [
            SettingsProblem(
                (*path, key),
                f"unknown setting{did_you_mean(key, known)}"
                + (f" (expected one of: {', '.join(known)})" if known else ""),
            )
            for key in error.instance
            if key not in known
        ]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return [SettingsProblem((*path, missing), "required setting is missing")]
    if error.validator == "enum":
        choices = [str(c) for c in error.validator_value if c is not None]
        hint = did_you_mean(error.instance, choices)
        return [SettingsProblem(path, f"{_shown(error.instance, schema)} is not one of "
                                      f"{', '.join(choices)}{hint}")]
    if error.validator == "type":
        got = _JSON_TYPE_NAMES.get(type(error.instance), type(error.instance).__name__)
        return [SettingsProblem(path, f"expected {_expected_types(schema)}, got {got} "
                                      f"{_shown(error.instance, schema)}")]
    return [SettingsProblem(path, SECRETS.redact(error.message))]


def find_problems(config: dict[str, Any], schema: dict[str, Any]) -> list[SettingsProblem]:
    """Every problem in ``config`` against the JSON ``schema``, sorted by path."""
    found: list[SettingsProblem] = []
    for error in Draft7Validator(schema).iter_errors(config):
        found.extend(_problems(error))
    return sorted(found, key=lambda p: format_path(p.path))


def forbid_unknown_keys(schema: dict[str, Any]) -> dict[str, Any]:
    """Set ``additionalProperties: false`` on every object that declares its properties.

    Objects that declare none (free-form ``headers``, ``params``, ``body``) stay open.
    """
    if isinstance(schema, dict):
        if schema.get("properties") and schema.get("additionalProperties", True) is True:
            schema["additionalProperties"] = False
        for value in schema.values():
            if isinstance(value, dict):
                forbid_unknown_keys(value)
            elif isinstance(value, list):
                for item in value:
                    forbid_unknown_keys(item)
    return schema


class StrictConfigMixin(ConfigCheckHook):
    """Replaces the SDK's config check with ours: every problem named by path, secrets masked.

    It also registers every secret setting with the redactor before anything is logged.
    """

    config_jsonschema: dict
    append_builtin_config: Callable[[dict], None]

    def more_problems(self, config: dict[str, Any]) -> list[SettingsProblem]:
        """A plugin's checks beyond its settings schema (none here)."""
        return []

    def check_settings(self, config: dict[str, Any], *, raise_errors: bool) -> list[str]:
        """Every problem of ``config`` by path; raised when ``raise_errors``."""
        # As in the SDK's own check: its built-in settings (stream_maps, ...) are known keys.
        self.append_builtin_config(self.config_jsonschema)
        SECRETS.add(*(value for _, value in secret_fields(config, self.config_jsonschema)))
        found = find_problems(config, self.config_jsonschema) + self.more_problems(config)
        problems = [str(p) for p in sorted(found, key=lambda p: format_path(p.path))]
        if problems and raise_errors:
            # Imported here: the pipeline translator uses this module without singer-sdk.
            from singer_sdk.exceptions import ConfigValidationError

            raise ConfigValidationError(
                "Config validation failed", errors=problems, schema=self.config_jsonschema
            )
        return problems


def secret_fields(
    config: Any, schema: dict[str, Any], path: tuple[str | int, ...] = ()
) -> Iterable[tuple[tuple[str | int, ...], Any]]:
    """``(path, value)`` of every value in ``config`` whose schema marks it secret."""
    if not isinstance(schema, dict):
        return
    if schema.get("secret") or schema.get("writeOnly"):
        yield path, config
        return
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from secret_fields(config, alternative, path)
    if isinstance(config, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in config.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            yield from secret_fields(value, sub or {}, (*path, key))
    elif isinstance(config, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(config):
            yield from secret_fields(value, schema["items"], (*path, index))
