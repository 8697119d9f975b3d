"""CSV has no null: an empty cell of a declared non-string field means "no value", so it is
null before the declared schema converts the record ("" stays "" in a string field)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def _types(field: dict[str, Any]) -> set[str]:
    kinds = field.get("type", [])
    return {kinds} if isinstance(kinds, str) else set(kinds)


def empty_cells_as_null(records: Iterable[dict[str, Any]], schema: dict[str, Any]
                        ) -> Iterator[dict[str, Any]]:
    """``records`` with ``""`` turned into None in the schema's fields that take no string."""
    fields = [name for name, field in schema.get("properties", {}).items()
              if "string" not in _types(field)]
    for record in records:
        for name in fields:
            if record.get(name) == "":
                record[name] = None
        yield record
