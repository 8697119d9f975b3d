"""Declared stream schemas: the spec's ``schema:`` list as JSON Schema, and records held to it.

``declared_schema`` turns the stream setting into a Singer JSON Schema. ``DeclaredRecords``
makes every record match that schema before it is written: undeclared fields are dropped
(one warning per field and stream), values are coerced only where nothing is lost, and a
value that cannot be coerced stops the sync with an error naming stream, record and field.

Coercion rules, by declared type (``null`` is accepted unless ``nullable: false``):

==========================  ==================================================================
declared type               accepted as is / coerced (anything else is an error)
==========================  ==================================================================
string                      strings / booleans → ``true``/``false``, numbers → their JSON
                            text, objects and arrays → compact JSON text
integer, long               integers / integer-valued floats (``42.0``), canonical integer
                            strings (``"42"``, ``"-7"``; not ``"042"`` or ``"4.0"``)
float, double               integers and floats / numeric strings whose value a float holds
                            exactly as written (``"3.25"``, ``"1e-3"``, ``"42"`` → 42)
boolean                     booleans / strings ``true``/``false`` (any case), integers 0 and 1
timestamp                   RFC 3339 date-times with an offset or ``Z`` (a space or a lower-case
                            ``t``/``z`` is normalised) / epoch seconds (integer, or float with at
                            most microsecond precision) → RFC 3339 in UTC. Naive date-times are
                            an error: which zone they mean is unknown
date                        ``YYYY-MM-DD`` strings of a real calendar day
binary                      standard base64 strings (validated)
object                      JSON objects (free form, not checked inside)
array                       JSON arrays (free form, not checked inside)
==========================  ==================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rest_api_core.config import did_you_mean
from rest_api_core.errors import ConfigError, ConnectorError
from tap_rest_api.coercion import ANY_JSON, KINDS, Converter, Reject, describe, is_anything

SCHEMA_FIELD_TYPES: tuple[str, ...] = (
    "string", "integer", "long", "float", "double", "boolean",
    "timestamp", "date", "binary", "object", "array",
)
"""The type names a ``schema:`` entry may declare."""

_JSON_SCHEMA_FOR_TYPE: dict[str, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "binary": {"type": "string", "contentEncoding": "base64"},
    "object": {"type": "object"},
    "array": {"type": "array"},
}
_FIELD_KEYS = ("name", "type", "nullable")


class RecordSchemaError(ConnectorError):
    """A record value that does not match the declared schema and cannot be coerced."""


def declared_schema(fields: list[dict], field_path: str) -> dict[str, Any]:
    """The JSON Schema of a stream's ``schema:`` setting found at ``field_path``.

    Raises ``ConfigError`` listing every bad entry (unknown type or key, missing,
    empty or duplicate name, non-boolean ``nullable``), each named by its path.
    """
    if not isinstance(fields, list):
        raise ConfigError(f"{field_path}: expected a list of {{name, type, nullable}} entries")
    problems: list[str] = []
    properties: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, int] = {}
    required: list[str] = []
    for index, entry in enumerate(fields):
        at = f"{field_path}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{at}: expected an object with name and type")
            continue
        problems += [
            f"{at}.{key}: unknown key{did_you_mean(key, _FIELD_KEYS)}"
            f" (expected one of: {', '.join(_FIELD_KEYS)})"
            for key in entry
            if key not in _FIELD_KEYS
        ]
        name, kind, nullable = entry.get("name"), entry.get("type"), entry.get("nullable", True)
        if not isinstance(name, str) or not name:
            problems.append(f"{at}.name: required, a non-empty string")
        elif name in first_seen:
            problems.append(f"{at}.name: duplicate field {name!r} "
                            f"(already declared at {field_path}[{first_seen[name]}])")
        else:
            first_seen[name] = index
        if kind not in _JSON_SCHEMA_FOR_TYPE:
            problem = "required" if kind is None else f"unknown type {kind!r}"
            problems.append(f"{at}.type: {problem}{did_you_mean(kind, SCHEMA_FIELD_TYPES)}"
                            f" (expected one of: {', '.join(SCHEMA_FIELD_TYPES)})")
        if not isinstance(nullable, bool):
            problems.append(f"{at}.nullable: expected true or false, got {nullable!r}")
        if problems:
            continue
        properties[name] = _property_schema(kind, nullable)
        if not nullable:
            required.append(name)
    if problems:
        raise ConfigError("Invalid stream schema:\n  " + "\n  ".join(problems))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _property_schema(kind: str, nullable: bool) -> dict[str, Any]:
    prop: dict[str, Any] = dict(_JSON_SCHEMA_FOR_TYPE[kind])
    prop["type"] = [prop["type"], "null"] if nullable else [prop["type"]]
    return prop




@dataclass(frozen=True)
class _Field:
    """How one declared field is checked: a type set for the common case, else a converter."""

    accepted: frozenset[type]
    convert: Converter


def _compile_field(prop: dict[str, Any]) -> _Field:
    declared = prop.get("type")
    if declared is None:
        return _Field(ANY_JSON, is_anything)
    types = [declared] if isinstance(declared, str) else list(declared)
    nullable = "null" in types
    detail = prop.get("format") or prop.get("contentEncoding")
    kinds = []
    for json_type in types:
        if json_type == "null":
            continue
        if (json_type, None) not in KINDS:
            raise ConfigError(f"Unsupported JSON Schema type {json_type!r} in {prop!r}")
        kinds.append(KINDS.get((json_type, detail if json_type == "string" else None))
                     or KINDS[(json_type, None)])
    accepted = frozenset().union(*(fast for fast, _ in kinds))
    converters = [convert for _, convert in kinds]
    return _Field(accepted | {type(None)} if nullable else accepted,
                  converters[0] if len(converters) == 1 else _first_of(converters))


def _first_of(converters: Sequence[Converter]) -> Converter:
    """A converter trying each of ``converters`` in turn (none: only null is valid)."""
    def convert(value: Any) -> Any:
        reasons = []
        for each in converters:
            try:
                return each(value)
            except Reject as reject:
                reasons.append(str(reject))
        raise Reject(" or ".join(reasons) or "expected null")
    return convert


class DeclaredRecords:
    """Holds one stream's records to its declared JSON Schema (see the module docstring)."""

    def __init__(
        self,
        stream_name: str,
        json_schema: dict[str, Any],
        logger: logging.Logger,
        primary_keys: Iterable[str] = (),
    ) -> None:
        self.stream_name = stream_name
        self.logger = logger
        self.primary_keys = tuple(primary_keys)
        self._fields = {name: _compile_field(prop)
                        for name, prop in json_schema.get("properties", {}).items()}
        self._required = frozenset(json_schema.get("required", ()))
        self._warned: set[str] = set()
        self._count = 0

    def conform(self, record: dict[str, Any], page: int | None = None) -> dict[str, Any]:
        """``record`` changed in place to match the schema, and returned.

        Raises ``RecordSchemaError`` naming stream, record and field for a value that
        cannot be coerced without loss, a null in a non-nullable field, or a missing
        non-nullable field.
        """
        self._count += 1
        fields = self._fields
        undeclared = None
        try:
            for key, value in record.items():
                field = fields.get(key)
                if field is None:
                    if undeclared is None:
                        undeclared = []
                    undeclared.append(key)
                elif type(value) not in field.accepted:
                    record[key] = field.convert(value)
        except Reject as reject:
            problem = ("null, but declared nullable: false" if value is None
                       else f"{reject}, got {describe(value)}")
            raise RecordSchemaError(f"{self._where(record, page, key)}: {problem}") from None
        if undeclared:
            self._drop(record, undeclared)
        if self._required and not self._required.issubset(record):
            missing = sorted(self._required.difference(record))
            raise RecordSchemaError(self._where(record, page, missing[0])
                                    + ": missing, but declared nullable: false")
        return record

    def _drop(self, record: dict[str, Any], undeclared: list[str]) -> None:
        for key in undeclared:
            del record[key]
            if key not in self._warned:
                self._warned.add(key)
                self.logger.warning(
                    "Stream %r: dropping field %r, which the stream's schema does not "
                    "declare (warned once; later records drop it silently)",
                    self.stream_name, key)

    def _where(self, record: dict, page: int | None, key: str) -> str:
        keys = [(name, record.get(name)) for name in self.primary_keys]
        if keys and all(value is not None for _, value in keys):
            which = "record " + ", ".join(f"{name}={value!r}" for name, value in keys)
        else:
            which = f"record #{self._count} of the stream"
        on_page = f" on page {page}" if page is not None else ""
        return f"Stream {self.stream_name!r}, {which}{on_page}, field {key!r}"
