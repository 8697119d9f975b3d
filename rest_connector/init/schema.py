"""From a response schema to the records' root key and the declared ``schema:`` list.

``allOf`` is merged; ``oneOf``/``anyOf`` are widened to a type that holds every branch (two
numeric types → ``double``, anything else mixed → ``string``, which takes any JSON value as
its text). Nested objects and arrays are declared ``object``/``array`` (free form), as the
tap's declared schema takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_connector.init.spec import Node

RECORD_KEYS = ("data", "items", "results", "records", "values", "value", "entries", "elements",
               "objects", "list", "content", "rows", "hits", "resources")
"""Names APIs commonly give the array of records, most common first."""
_MAX_DEPTH = 3
_STRING_FORMATS = {"date-time": "timestamp", "date": "date", "byte": "binary"}


@dataclass(frozen=True)
class Shape:
    """A schema reduced to what the generator needs."""

    types: frozenset[str]
    """JSON types (``null`` included when the value may be null)."""
    formats: frozenset[str]
    properties: dict[str, Node]
    items: Node | None


def _types(value: dict) -> set[str]:
    declared = value.get("type")
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = {t for t in declared if isinstance(t, str)}
    else:
        types = set()
        if "properties" in value:
            types.add("object")
        if "items" in value:
            types.add("array")
    if value.get("nullable") is True or value.get("x-nullable") is True:
        types.add("null")
    return types


def shape(node: Node | None, depth: int = 0) -> Shape:
    """The merged shape of a schema (``allOf`` merged, ``oneOf``/``anyOf`` widened)."""
    empty = Shape(frozenset(), frozenset(), {}, None)
    if node is None or depth > 10:
        return empty
    node = node.deref()
    if not isinstance(node.value, dict):
        return empty
    types, formats = _types(node.value), set()
    if isinstance(node.value.get("format"), str):
        formats.add(node.value["format"])
    properties = dict(node.get("properties").items()) if node.get("properties") else {}
    items = node.get("items")
    for keyword in ("allOf", "oneOf", "anyOf"):
        branches = node.get(keyword)
        for branch in branches.elements() if branches is not None else ():
            part = shape(branch, depth + 1)
            types |= part.types
            formats |= part.formats
            for name, child in part.properties.items():
                properties.setdefault(name, child)
            items = items or part.items
    return Shape(frozenset(types), frozenset(formats), properties, items)


def field_type(node: Node) -> str:
    """The declared type (``schema:`` entry) for a property's schema."""
    found = shape(node)
    types = found.types - {"null"}
    if not types:
        return "object" if found.properties else "string"
    if types <= {"integer", "number"}:
        if types == {"integer"}:
            return "integer"
        return "double"
    if len(types) > 1:
        return "string"
    only = next(iter(types))
    if only == "string":
        known = [_STRING_FORMATS[f] for f in found.formats if f in _STRING_FORMATS]
        return known[0] if len(known) == 1 and len(found.formats) == 1 else "string"
    return {"number": "double", "boolean": "boolean", "object": "object",
            "array": "array"}.get(only, "string")


def declared_fields(record: Node) -> list[dict[str, str]]:
    """The ``schema:`` list for records of this schema (empty when it names no property)."""
    return [{"name": name, "type": field_type(child)}
            for name, child in shape(record).properties.items()]


def _is_object_list(node: Node) -> Node | None:
    """The item schema when ``node`` is an array of objects."""
    found = shape(node)
    if "array" not in found.types or found.items is None:
        return None
    item = shape(found.items)
    if "object" in item.types or item.properties:
        return found.items
    return None


@dataclass(frozen=True)
class Records:
    """Where an answer holds its records, and their schema."""

    root_key: str | None
    record: Node
    evidence: str


def find_records(body: Node | None) -> Records | None:
    """The records of an answer: the body itself when it is an array of objects, else the
    array of objects inside it (a common record key first, then the shallowest)."""
    if body is None:
        return None
    item = _is_object_list(body)
    if item is not None:
        return Records(None, item, "the answer is an array of objects")
    candidates: list[tuple[int, int, str, Node]] = []
    _collect_lists(body, "", 0, candidates)
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1]))
    path, record = candidates[0][2:]
    others = [c[2] for c in candidates[1:]]
    evidence = f"'{path}' is the answer's array of objects"
    if others:
        evidence += f" (also seen: {', '.join(others[:3])}; chose the usual record key)"
    return Records(path, record, evidence)


def _collect_lists(node: Node, prefix: str, depth: int,
                   found: list[tuple[int, int, str, Node]]) -> None:
    if depth >= _MAX_DEPTH:
        return
    for name, child in shape(node).properties.items():
        path = f"{prefix}{name}"
        item = _is_object_list(child)
        if item is not None:
            rank = RECORD_KEYS.index(name) if name in RECORD_KEYS else len(RECORD_KEYS)
            found.append((depth, rank, path, item))
        elif "." not in name and shape(child).properties:
            _collect_lists(child, f"{path}.", depth + 1, found)
