"""Singer SCHEMA → Arrow schema, decided once per SCHEMA message and never guessed from data.

=====================================================  ===============================
Singer (JSON Schema) property                          Arrow type (always nullable)
=====================================================  ===============================
``string``                                             ``string``
``string`` + ``format: date-time``                     ``timestamp[us, tz=UTC]``
``string`` + ``format: date``                          ``date32``
``string`` + ``contentEncoding: base64``               ``binary``
``integer``                                            ``int64``
``number`` (or ``integer`` and ``number`` together)    ``float64``
``boolean``                                            ``bool``
``object`` with ``properties``                         ``struct`` of those properties
``object`` without ``properties``                      ``string`` holding JSON text
``array``                                              ``list`` of its ``items``
``null`` only                                          ``string`` (until a real type arrives)
anything else (mixed types, no type)                   ``string``: strings as they are,
                                                       other values as JSON text
=====================================================  ===============================

Each column is described by a ``Column``: its Arrow type and the ``kind`` of conversion its
values need (see ``rest_api_core.arrow.convert``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

# Conversion kinds; ``text`` keeps strings and writes anything else as JSON text.
STRING, TEXT, JSON, INTEGER, NUMBER, BOOLEAN = "string", "text", "json", "integer", "number", "bool"
DATETIME, DATE, BINARY, STRUCT, LIST, NULL = "datetime", "date", "binary", "struct", "list", "null"

_SCALARS: dict[str, pa.DataType] = {
    STRING: pa.string(), TEXT: pa.string(), JSON: pa.string(), NULL: pa.string(),
    INTEGER: pa.int64(), NUMBER: pa.float64(), BOOLEAN: pa.bool_(),
    DATETIME: TIMESTAMP, DATE: pa.date32(), BINARY: pa.binary(),
}


@dataclass(frozen=True)
class Column:
    """How one Singer property is stored: its Arrow type and how its values are converted."""

    kind: str
    fields: tuple[tuple[str, Column], ...] = ()
    """A struct's properties, in schema order."""
    item: Column | None = None
    """A list's element."""
    type: pa.DataType = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind == STRUCT:
            arrow = pa.struct([pa.field(name, col.type) for name, col in self.fields])
        elif self.kind == LIST:
            assert self.item is not None
            arrow = pa.list_(pa.field("element", self.item.type))
        else:
            arrow = _SCALARS[self.kind]
        object.__setattr__(self, "type", arrow)


def _types(prop: dict) -> list[str]:
    kinds = prop.get("type")
    if kinds is None:
        return []
    return [kinds] if isinstance(kinds, str) else list(kinds)


def _alternatives(prop: dict) -> list[dict]:
    """The property's ``anyOf``/``oneOf`` branches (and the property itself) without ``null``."""
    branches = prop.get("anyOf") or prop.get("oneOf")
    if not branches:
        return [prop]
    found: list[dict] = []
    for branch in branches:
        if isinstance(branch, dict):
            found.extend(_alternatives(branch))
    return found


def _scalar_kind(prop: dict, kind: str) -> str:
    if kind != "string":
        return {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}.get(kind, TEXT)
    if prop.get("contentEncoding") == "base64":
        return BINARY
    return {"date-time": DATETIME, "date": DATE}.get(prop.get("format", ""), STRING)


def column_for(prop: dict) -> Column:
    """The ``Column`` for one Singer property schema."""
    if not isinstance(prop, dict):
        return Column(TEXT)
    candidates: list[Column] = []
    for branch in _alternatives(prop):
        kinds = [k for k in _types(branch) if k != "null"]
        if not kinds:
            if _types(branch):  # declared, and only null
                continue
            candidates.append(Column(TEXT))  # no type at all: any JSON value
            continue
        if set(kinds) == {"integer", "number"}:
            kinds = ["number"]
        if len(kinds) > 1:
            candidates.append(Column(TEXT))
        elif kinds[0] == "object":
            properties = branch.get("properties")
            if isinstance(properties, dict) and properties:
                candidates.append(Column(STRUCT, fields=tuple(
                    (name, column_for(sub)) for name, sub in properties.items()
                )))
            else:
                candidates.append(Column(JSON))
        elif kinds[0] == "array":
            items = branch.get("items")
            candidates.append(Column(LIST, item=column_for(items) if items else Column(TEXT)))
        else:
            candidates.append(Column(_scalar_kind(branch, kinds[0])))
    if not candidates:
        return Column(NULL)
    distinct = set(candidates)
    if len(distinct) == 1:
        return candidates[0]
    if distinct == {Column(INTEGER), Column(NUMBER)}:
        return Column(NUMBER)
    return Column(TEXT)


@dataclass(frozen=True)
class StreamLayout:
    """A stream's columns, in SCHEMA order, and the Arrow schema they make."""

    columns: tuple[tuple[str, Column], ...]
    schema: pa.Schema


def stream_layout(singer_schema: dict) -> StreamLayout:
    """The layout of a stream from its Singer SCHEMA (``properties`` in declared order)."""
    properties = singer_schema.get("properties") or {}
    columns = tuple((name, column_for(prop)) for name, prop in properties.items())
    schema = pa.schema([pa.field(name, col.type, nullable=True) for name, col in columns])
    return StreamLayout(columns, schema)

