"""Inferred stream schemas: built from the first page, widened by later records, never lossy.

Record values are never converted; the schema grows to describe them instead:

- every field is nullable; a field only seen as null has type ``["null"]`` until a value
  gives it a real type;
- integers and floats in one field make it ``number`` (the values themselves stay as they
  are, so an integer above 2^53 keeps every digit in the RECORD message);
- strings that are all RFC 3339 date-times (``T`` separator, ``Z`` or offset, at most
  microseconds) get ``format: date-time``; all ``YYYY-MM-DD`` days get ``format: date``;
  one other string makes the field a plain string;
- any other mix of types becomes a type list (``["string", "number", "null"]``);
- objects get their properties, arrays their ``items``, widened the same way, recursively.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import chain, repeat
from typing import Any

from tap_rest_api.coercion import is_date, is_date_time

_TYPE_ORDER = ("string", "integer", "number", "boolean", "object", "array", "null")
_NONE = type(None)


def is_microsecond_date_time(text: str) -> bool:
    """An RFC 3339 date-time with at most microseconds, as a timestamp column stores it."""
    if not is_date_time(text):
        return False
    if text[19] != ".":
        return True
    return len(text) - 20 - (1 if text[-1] == "Z" else 6) <= 6


_FORMAT_CHECKS = {"date": is_date, "date-time": is_microsecond_date_time}


def string_format(text: str) -> str | None:
    """``date-time`` or ``date`` if ``text`` is one that a target can store without loss."""
    for name, check in _FORMAT_CHECKS.items():
        if check(text):
            return name
    return None


def _of_kind(values: Sequence[Any], kind: type, mixed: bool) -> Sequence[Any]:
    """The values of type ``kind`` (strings without repeats); ``mixed``: other types than
    ``kind`` and None are present. Empty objects and arrays may be left out: they fit any
    node that has their type."""
    if mixed:
        return [value for value in values if type(value) is kind]
    if kind is str:
        return set(values) - {None}
    return list(filter(None, values))


class _Node:
    """What one value position (a field, or the items of an array) has held so far."""

    __slots__ = ("format", "format_check", "items", "plain", "properties", "types")

    def __init__(self) -> None:
        self.types: set[str] = {"null"}
        self.format: str | None = None
        self.format_check: Callable[[str], bool] | None = None
        self.properties: dict[str, _Node] | None = None
        self.items: _Node | None = None
        self.plain: frozenset[type] = frozenset({_NONE})

    def absorb(self, value: Any) -> bool:
        """Widen to describe ``value``; True if the schema changed."""
        kind = type(value)
        if kind in self.plain or (kind is str and self.format_check and self.format_check(value)):
            return False
        if isinstance(value, dict):
            changed = self.absorb_object(value)
        elif isinstance(value, list):
            changed = self._absorb_array(value)
        elif isinstance(value, str):
            changed = self._absorb_string(value)
        elif isinstance(value, bool):
            changed = self._add("boolean")
        elif isinstance(value, int):
            changed = self._add("integer")
        elif isinstance(value, (float, Decimal)):
            changed = self._add("number")
            self.types.discard("integer")
        else:
            raise TypeError(f"not a JSON value: {type(value).__name__}")
        if changed:
            self._refresh_plain()
        return changed

    def absorb_object(self, record: dict[str, Any]) -> bool:
        """Widen with each field of ``record``; True if the schema changed."""
        changed = "object" not in self.types and self._add("object")
        properties = self.properties
        if properties is None:
            properties = self.properties = {}
        for key, value in record.items():
            child = properties.get(key)
            if child is None:
                properties[key] = child = _Node()
                child.absorb(value)
                changed = True
            elif type(value) not in child.plain and child.absorb(value):
                changed = True
        return changed

    def _absorb_array(self, values: list[Any]) -> bool:
        changed = self._add("array")
        items = self.items
        if items is None:
            items = self.items = _Node()
        for value in values:
            if type(value) not in items.plain and items.absorb(value):
                changed = True
        return changed

    def _absorb_string(self, text: str) -> bool:
        if "string" not in self.types:
            self.types.add("string")
            self.format = string_format(text)
        elif self.format is not None:  # a string that does not match the format
            self.format = None
        else:
            return False
        self.format_check = _FORMAT_CHECKS.get(self.format)
        return True

    def _add(self, json_type: str) -> bool:
        if json_type in self.types:
            return False
        self.types.add(json_type)
        return True

    def covers(self, values: Sequence[Any]) -> bool:
        """True if every one of ``values`` fits this node as it is (nothing to widen).

        A column at a time: the types present are collected in one pass at C speed, and only
        strings with a format, objects and arrays are looked at more closely.
        """
        kinds = set(map(type, values))
        mixed = len(kinds - {_NONE}) > 1
        for kind in kinds - self.plain:
            if kind is str and self.format_check is not None:
                if not all(map(self.format_check, _of_kind(values, str, mixed))):
                    return False
            elif kind is dict and "object" in self.types:
                if not self.covers_objects(_of_kind(values, dict, mixed)):
                    return False
            elif kind is list and "array" in self.types and self.items is not None:
                if not self.items.covers(list(chain.from_iterable(_of_kind(values, list, mixed)))):
                    return False
            else:
                return False
        return True

    def covers_objects(self, objects: Sequence[dict[str, Any]]) -> bool:
        """True if every object fits this node's properties (a missing field is a null)."""
        properties = self.properties or {}
        fields = set().union(*objects)
        if not fields <= properties.keys():
            return False
        return all(properties[field].covers(list(map(dict.get, objects, repeat(field))))
                   for field in fields)

    def _refresh_plain(self) -> None:
        """The Python types this node accepts with no closer look."""
        plain = {_NONE}
        if "boolean" in self.types:
            plain.add(bool)
        if "integer" in self.types or "number" in self.types:
            plain.add(int)
        if "number" in self.types:
            plain.add(float)
        if "string" in self.types and self.format is None:
            plain.add(str)
        self.plain = frozenset(plain)

    def json_schema(self) -> dict[str, Any]:
        """This node as JSON Schema."""
        schema: dict[str, Any] = {"type": [t for t in _TYPE_ORDER if t in self.types]}
        if self.format and "string" in self.types:
            schema["format"] = self.format
        if self.properties is not None:
            schema["properties"] = {k: n.json_schema() for k, n in self.properties.items()}
        if self.items is not None:
            schema["items"] = self.items.json_schema()
        return schema


class InferredSchema:
    """A stream schema inferred from its records, widened whenever a record does not fit."""

    def __init__(self) -> None:
        self._root = _Node()
        self._root.types = {"object"}
        self._root.properties = {}
        self._cached_schema: dict[str, Any] | None = None

    def observe_page(self, records: list[dict[str, Any]]) -> None:
        """Grow the schema to describe every record of ``records`` (the first page)."""
        for record in records:
            self.fit(record)

    def covers(self, records: Sequence[dict[str, Any]]) -> bool:
        """True if no record of ``records`` would widen the schema: their ``fit`` can be
        skipped. Checked a column at a time, much faster than ``fit`` record by record."""
        return self._root.covers_objects(records)

    def fit(self, record: dict[str, Any]) -> bool:
        """Widen the schema to describe ``record``; True if it had to (emit a new SCHEMA)."""
        if self._root.absorb_object(record):
            self._cached_schema = None
            return True
        return False

    @property
    def schema(self) -> dict[str, Any]:
        """The current JSON Schema: ``{"type": "object", "properties": {...}}``."""
        if self._cached_schema is None:
            self._cached_schema = {"type": "object",
                            "properties": self._root.json_schema()["properties"]}
        return self._cached_schema
