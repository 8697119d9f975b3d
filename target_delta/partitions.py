"""Rows of a partitioned table split into one file set per partition value, as Delta lays out.

A data file of a partitioned Delta table holds the other columns only; the partition's values
are in its add action (``partitionValues``, serialized as Delta's protocol says) and, by
convention, in its folder name (``country=FR/``). Folder names here only ever use characters
that need no escaping in the add action's path: a value with others is named by a digest.

Partition columns of type string, integer, boolean or date are written this way; others
(timestamps, floats: their text forms differ between writers) stay on the staging path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.types as pat

NULL_FOLDER = "__HIVE_DEFAULT_PARTITION__"
_PLAIN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def supported(schema: pa.Schema, columns: Sequence[str]) -> bool:
    """True when every partition column is in ``schema`` with a type written in place."""
    for name in columns:
        index = schema.get_field_index(name)
        if index < 0:
            return False
        kind = schema.field(index).type
        if not (pat.is_string(kind) or pat.is_integer(kind) or pat.is_boolean(kind)
                or pat.is_date32(kind)):
            return False
    return True


def _text(value: object) -> str | None:
    """A partition value as Delta serializes it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def split(batch: pa.RecordBatch | pa.Table, columns: Sequence[str],
          ) -> Iterator[tuple[dict[str, str | None], pa.Table]]:
    """Each partition value of ``batch`` (as Delta text) and its rows without the partition
    columns, in one pass (rows grouped by value, order kept within a group)."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    keyed = table.select(list(columns)).append_column(
        "__row", pa.array(range(table.num_rows), pa.int64()))
    groups = keyed.group_by(list(columns), use_threads=False).aggregate([("__row", "list")])
    rest = table.drop_columns(list(columns))
    for group in groups.to_pylist():
        values = {name: _text(group[name]) for name in columns}
        yield values, rest.take(pa.array(group["__row_list"], pa.int64()))


def folder(values: Mapping[str, str | None]) -> str:
    """The relative folder of a partition value, ``a=1/b=x``."""
    parts = []
    for name, value in values.items():
        if value is None:
            shown = NULL_FOLDER
        elif _PLAIN.match(value):
            shown = value
        else:
            shown = "h" + hashlib.sha1(value.encode()).hexdigest()[:16]
        column = name if _PLAIN.match(name) else "c" + hashlib.sha1(name.encode()).hexdigest()[:8]
        parts.append(f"{column}={shown}")
    return "/".join(parts)
