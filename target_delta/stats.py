"""Delta file statistics (``stats`` of an add action) read from a Parquet file's footer.

Delta readers skip files by the min/max of each column on a predicate, so every file we commit
by name carries what delta-rs would have written for it had it written the rows itself:
``numRecords``, and per leaf column ``nullCount``, ``minValues`` and ``maxValues``, for the
first ``delta.dataSkippingNumIndexedCols`` leaf columns (32 by default) or the columns named
in ``delta.dataSkippingStatsColumns``. The footer statistics are exact values written by
pyarrow; they are turned into delta-rs' forms:

- timestamps as UTC text at millisecond precision, rounded down (``2024-01-01T12:00:00.123Z``);
- strings longer than 64 bytes cut at a character boundary, the maximum's last character then
  incremented so it stays an upper bound (Parquet's statistics truncation, which delta-rs uses);
- no statistics for binary columns nor for anything inside a list or map, as delta-rs.

A bound that cannot be given exactly (statistics missing in a row group that holds values, a
maximum that cannot be incremented after truncation is kept whole) is left out, never guessed:
a reader then simply reads the file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

NUM_INDEXED_COLS = "delta.dataSkippingNumIndexedCols"
STATS_COLUMNS = "delta.dataSkippingStatsColumns"
DEFAULT_INDEXED_COLS = 32
TRUNCATE_BYTES = 64
_EPOCH = dt.datetime(1970, 1, 1)
_PER_MILLI = {"milliseconds": 1, "microseconds": 1_000, "nanoseconds": 1_000_000}


@dataclass(frozen=True)
class StatsColumns:
    """Which leaf columns get statistics, from the table's configuration."""

    indexed: int = DEFAULT_INDEXED_COLS
    named: frozenset[str] | None = None

    @classmethod
    def of(cls, configuration: Mapping[str, str | None] | None) -> StatsColumns:
        """The choice a table's ``delta.dataSkipping*`` properties make (defaults otherwise)."""
        configuration = configuration or {}
        named = configuration.get(STATS_COLUMNS)
        if named:
            return cls(named=frozenset(c.strip().strip("`") for c in named.split(",")))
        return cls(indexed=int(configuration.get(NUM_INDEXED_COLS) or DEFAULT_INDEXED_COLS))

    def chosen(self, index: int, path: str) -> bool:
        """True for the leaf column at ``index`` (its dotted ``path``)."""
        if self.named is not None:
            return path in self.named
        return self.indexed == -1 or index < self.indexed


def file_stats(metadata: pq.FileMetaData, columns: StatsColumns = StatsColumns(),
               skip: frozenset[str] = frozenset()) -> str:
    """The Delta ``stats`` JSON of a Parquet file (``skip``: top-level columns left out, such
    as partition columns)."""
    minimums: dict[str, Any] = {}
    maximums: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    for index in range(metadata.num_columns):
        leaf = metadata.schema.column(index)
        parts = leaf.path.split(".")
        if parts[0] in skip or not columns.chosen(index, leaf.path) or not _has_stats(leaf):
            continue
        found = _ColumnStats.of(metadata, index, leaf)
        if found.nulls is not None:
            _put(nulls, parts, found.nulls)
        if found.bounds is not None:
            low, high = found.bounds
            _put(minimums, parts, low)
            _put(maximums, parts, high)
    return json.dumps({"numRecords": metadata.num_rows, "minValues": minimums,
                       "maxValues": maximums, "nullCount": nulls})


def _has_stats(leaf: pq.ColumnSchema) -> bool:
    """Not inside a list or map, and not plain binary (delta-rs gives those no statistics)."""
    if leaf.max_repetition_level > 0:
        return False
    return not (leaf.physical_type == "BYTE_ARRAY" and leaf.logical_type.type != "STRING")


@dataclass
class _ColumnStats:
    nulls: int | None
    bounds: tuple[Any, Any] | None

    @classmethod
    def of(cls, metadata: pq.FileMetaData, index: int, leaf: pq.ColumnSchema) -> _ColumnStats:
        """One leaf column over every row group: null counts add up; min and max over the row
        groups holding values, only if each of them has them."""
        nulls: int | None = 0
        low = high = None
        exact = True
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(index)
            stats = chunk.statistics
            counted = stats is not None and stats.has_null_count
            nulls = nulls + stats.null_count if counted and nulls is not None else None
            if counted and stats.null_count == chunk.num_values:
                continue  # only nulls in this row group: no bound to take
            if stats is None or not stats.has_min_max:
                exact = False
                continue
            low = stats.min_raw if low is None else min(low, stats.min_raw)
            high = stats.max_raw if high is None else max(high, stats.max_raw)
        if not exact or low is None or high is None:
            return cls(nulls, None)
        return cls(nulls, _delta_bounds(leaf, low, high))


def _delta_bounds(leaf: pq.ColumnSchema, low: Any, high: Any) -> tuple[Any, Any] | None:
    """Footer values in delta-rs' JSON forms; None when there is no right form."""
    kind = leaf.logical_type.type
    if kind == "STRING":
        return _truncated_min(low.decode()), _truncated_max(high.decode())
    if kind == "DATE":
        return _date(low), _date(high)
    if kind == "TIMESTAMP":
        unit = json.loads(leaf.logical_type.to_json())["timeUnit"]
        return _timestamp(low, unit), _timestamp(high, unit)
    if leaf.physical_type in {"DOUBLE", "FLOAT"}:
        return _finite(low), _finite(high)
    if leaf.physical_type in {"INT32", "INT64", "BOOLEAN"} and kind in {"NONE", "INT"}:
        return low, high
    return None  # decimals and others this project does not write


def _finite(value: float) -> float | None:
    """delta-rs writes an infinite bound as JSON null."""
    return value if math.isfinite(value) else None


def _date(days: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()


def _timestamp(value: int, unit: str) -> str:
    """Rounded down to the millisecond, written as delta-rs writes it."""
    millis = value // _PER_MILLI[unit]
    moment = _EPOCH + dt.timedelta(milliseconds=millis)
    fraction = f".{moment.microsecond // 1000:03d}" if moment.microsecond else ""
    return f"{moment.isoformat(timespec='seconds')}{fraction}Z"


def _prefix(text: str) -> str:
    """The longest prefix of ``text`` of at most 64 UTF-8 bytes."""
    return text.encode()[:TRUNCATE_BYTES].decode(errors="ignore")


def _truncated_min(text: str) -> str:
    return _prefix(text) if len(text.encode()) > TRUNCATE_BYTES else text


def _truncated_max(text: str) -> str:
    """Cut to 64 bytes, then the last character that can be incremented without growing in
    bytes is, and what follows it dropped; the whole value when none can be."""
    if len(text.encode()) <= TRUNCATE_BYTES:
        return text
    prefix = _prefix(text)
    for position in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[position]) + 1
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            continue
        following = chr(code)
        if len(following.encode()) == len(prefix[position].encode()):
            return prefix[:position] + following
    return text


def _put(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    """``tree[a][b][c] = value`` for the path ``a.b.c`` of a leaf inside structs."""
    for part in parts[:-1]:
        tree = tree.setdefault(part, {})
    tree[parts[-1]] = value
