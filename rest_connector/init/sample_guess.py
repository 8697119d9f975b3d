"""Reading one answer of an API: where its records are, their schema, and how it pages.

What a spec would declare is guessed here from the JSON itself: the largest array of objects
holds the records; a field holding a URL under a next-link name, a cursor beside a
``has_more`` flag, or a total beside the records say how the next page is asked for.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rest_connector.init.pagination import (
    MORE_FIELDS,
    NEXT_CURSOR_FIELDS,
    NEXT_LINK_FIELDS,
    TOTAL_FIELDS,
)

_MAX_DEPTH = 3
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURSOR_PARAM_FOR_FIELD = {
    "next_cursor": "cursor", "nextCursor": "cursor", "cursor": "cursor",
    "next_page_token": "page_token", "nextPageToken": "pageToken", "next_token": "next_token",
    "nextToken": "nextToken", "after_cursor": "page[after]", "after": "after",
    "end_cursor": "after", "endCursor": "after", "next_marker": "marker",
}
"""The query parameter APIs usually take a cursor field's value back in."""


def walk(value: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """``(dot path, value)`` of every field of nested objects (arrays not entered; a name
    holding a dot is left out: no dot path can name it)."""
    if not isinstance(value, dict) or depth > _MAX_DEPTH:
        return
    for key, child in value.items():
        if "." in str(key):
            continue
        path = f"{prefix}{key}"
        yield path, child
        yield from walk(child, f"{path}.", depth + 1)


def _object_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def find_root_key(body: Any) -> tuple[str | None, list[dict]] | None:
    """The records: the body when it is an array of objects, else its largest array of
    objects (a dot path); a single object is one record."""
    if _object_list(body):
        return None, body
    if not isinstance(body, dict):
        return None
    arrays = [(path, value) for path, value in walk(body) if _object_list(value)]
    if not arrays:
        return None, [body]
    path, records = max(arrays, key=lambda found: len(found[1]))
    return path, records


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(("http://", "https://", "/", "?")))


def _first_field(names: tuple[str, ...], fields: dict[str, Any], wanted: Any) -> str | None:
    for name in names:
        if name in fields and wanted(fields[name]):
            return name
    return None


@dataclass(frozen=True)
class PagingSigns:
    """What one answer says about paging."""

    next_link: str | None
    cursor_field: str | None
    cursor_param: str | None
    more_field: str | None
    total_field: str | None
    total: int | None


def paging_signs(body: Any, root_key: str | None) -> PagingSigns:
    """Next-link, cursor, has-more and total fields of an answer (records aside)."""
    fields = {p: v for p, v in walk(body) if p != root_key}
    link = _first_field(NEXT_LINK_FIELDS, fields, _is_url)
    if link is None:
        link = next((p for p, v in fields.items() if "next" in p.lower() and _is_url(v)), None)
    cursor = _first_field(NEXT_CURSOR_FIELDS, fields,
                          lambda v: isinstance(v, (str, int)) and not _is_url(v) and v != "")
    more = _first_field(MORE_FIELDS, fields, lambda v: isinstance(v, bool))
    total = _first_field(TOTAL_FIELDS, fields, lambda v: type(v) is int)
    param = _CURSOR_PARAM_FOR_FIELD.get(cursor.rsplit(".", 1)[-1]) if cursor else None
    return PagingSigns(link, cursor, param or "cursor", more, total,
                       fields[total] if total else None)


def _value_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if _DATE.match(value):
        return "date"
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "string"
    return "timestamp" if parsed.tzinfo is not None and "T" in value.upper() else "string"


def infer_fields(records: list[dict]) -> list[dict[str, str]]:
    """The ``schema:`` list that holds every sample record (mixed numbers → double, other
    mixes → string; a field only ever null → string)."""
    seen: dict[str, set[str]] = {}
    for record in records:
        for key, value in record.items():
            kinds = seen.setdefault(str(key), set())
            kind = _value_type(value)
            if kind is not None:
                kinds.add(kind)
    fields = []
    for name, kinds in seen.items():
        if kinds <= {"integer", "double"} and len(kinds) == 2:
            kind = "double"
        elif len(kinds) == 1:
            kind = next(iter(kinds))
        else:
            kind = "string"
        fields.append({"name": name, "type": kind})
    return fields
