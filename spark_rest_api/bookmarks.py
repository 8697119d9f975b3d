"""Incremental bookmarks of the Spark engine, taken from what a Delta commit wrote.

A run's new bookmark is the greatest replication key value among the rows the job committed
(the data files its commit added), never among rows merely read: a bookmark cannot run ahead
of the table. An incremental child's bookmarks are per parent, as the Singer engine keeps
them: the greatest value among the added rows of each parent context (the child's rows carry
the context's ``_<parent>_<path>`` columns). Values are kept as the API sent them (text), as
the Singer engine keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from tap_rest_api import windows
from tap_rest_api.incremental import parse_incremental
from tap_rest_api.instants import format_instant, parse_instant
from tap_rest_api.parents import ParentLink
from target_delta.storage import storage_options_for
from target_delta.table_folder import TableFolder

Context = tuple[tuple[str, Any], ...]
"""A parent context as ``(column, value)`` pairs, in the child's context key order."""


def committed_files(uri: str, settings: dict[str, Any]) -> frozenset[str]:
    """The data files the table at ``uri`` names now (none when there is no table yet)."""
    try:
        table = DeltaTable(uri, storage_options=storage_options_for(uri, settings) or None)
    except TableNotFoundError:
        return frozenset()
    return frozenset(table.file_uris())


def _added(uri: str, settings: dict[str, Any], before: frozenset[str],
           columns: Sequence[str]) -> Iterator[pa.Table]:
    """``columns`` of each file added since ``before``, in file name order (the engine's
    files are named by partition: parent order for a child's slices)."""
    options = storage_options_for(uri, settings) or None
    table = DeltaTable(uri, storage_options=options)
    folder = TableFolder(uri, options)
    for added in sorted(set(table.file_uris()) - before):
        with folder.read(_relative(table, added)) as parquet:
            yield parquet.read(columns=list(columns))


def _greater(best: Any, value: Any) -> Any:
    return value if best is None or (value is not None and value > best) else best


def written_maximum(uri: str, settings: dict[str, Any], before: frozenset[str],
                    column: str) -> str | None:
    """The greatest ``column`` value in the files added since ``before`` (None: no rows)."""
    best: Any = None
    for rows in _added(uri, settings, before, [column]):
        values = rows.column(column)
        if len(values) != values.null_count:
            best = _greater(best, pc.max(values).as_py())
    return _as_text(best)


def written_maxima(uri: str, settings: dict[str, Any], before: frozenset[str], column: str,
                   context_columns: Sequence[str]) -> dict[Context, str]:
    """The greatest ``column`` value per parent context (the ``context_columns`` values) in
    the files added since ``before``; contexts in the order their rows were written."""
    best: dict[Context, Any] = {}
    for rows in _added(uri, settings, before, [*context_columns, column]):
        rows = rows.filter(pc.is_valid(rows.column(column)))
        if not rows.num_rows:
            continue
        grouped = rows.group_by(list(context_columns), use_threads=False).aggregate(
            [(column, "max")])
        for row in grouped.to_pylist():
            context = tuple((name, _as_text(row[name]) if isinstance(row[name], datetime)
                             else row[name]) for name in context_columns)
            best[context] = _greater(best.get(context), row[f"{column}_max"])
    return {context: _as_text(value) for context, value in best.items()}


def context_columns(stream: dict[str, Any]) -> tuple[str, ...]:
    """The columns naming a child's parent context (its placeholders' ``_<parent>_<path>``
    fields, the keys of its bookmarks per parent); none for a stream without parent."""
    link = ParentLink.of(stream)
    return link.placeholder_fields if link is not None else ()


def fixed_window_end(stream: dict[str, Any]) -> dict[str, Any]:
    """A windowed stream's settings with ``end_value`` fixed at now when it has none (as the
    tap fixes it at the run's start), so that the windows the driver plans and the bookmark
    taken after the commit end at the same instant."""
    block = stream.get("incremental") or {}
    if not block.get("window") or block.get("end_value") is not None:
        return stream
    end = windows.run_end(None)
    start = parse_instant(block.get("start_value"))
    if start is not None and end <= start:
        return stream  # nothing to read yet, as in the tap
    return {**stream, "incremental": {**block, "end_value": format_instant(end, "iso8601")}}


def window_bookmark(stream: dict[str, Any], previous: Any, written: str | None) -> str | None:
    """The bookmark the tap holds once every window of a run is out: the last window's end,
    or the greatest value written if later (``BookmarkKeeper.window_done``). None when the
    run had no window to read (from ``previous``, the state's bookmark): it stays."""
    incremental = parse_incremental(stream, f"stream {stream.get('name')!r}")
    if incremental is None or incremental.window is None or incremental.end is None:
        return None
    start = windows.first_start(previous, incremental.start, incremental.lookback,
                                incremental.unit)
    planned = windows.plan(start, incremental.end, incremental.window.step) if start else []
    if not planned:
        return None
    moment = planned[-1].end
    largest = parse_instant(written, incremental.unit)
    return str(format_instant(max(moment, largest) if largest else moment, "iso8601"))


def _relative(table: DeltaTable, file_uri: str) -> str:
    """A data file's path under the table's root (delta-rs lists local files by their
    path, remote ones by their URI)."""
    for root in (table.table_uri, urlsplit(table.table_uri).path):
        if file_uri.startswith(prefix := root.rstrip("/") + "/"):
            return file_uri[len(prefix):]
    return file_uri


def _as_text(value: Any) -> str | None:
    """A bookmark as the API's text: timestamps in RFC 3339 (UTC as ``Z``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() == timezone.utc.utcoffset(None):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    return str(value)
