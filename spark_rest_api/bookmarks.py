"""Incremental bookmarks of the Spark engine, taken from what a Delta commit wrote.

A run's new bookmark is the greatest replication key value among the rows the job committed
(the data files its commit added), never among rows merely read: a bookmark cannot run ahead
of the table. Values are kept as the API sent them (text), as the Singer engine keeps them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from target_delta.storage import storage_options_for
from target_delta.table_folder import TableFolder


def committed_files(uri: str, settings: dict[str, Any]) -> frozenset[str]:
    """The data files the table at ``uri`` names now (none when there is no table yet)."""
    try:
        table = DeltaTable(uri, storage_options=storage_options_for(uri, settings) or None)
    except TableNotFoundError:
        return frozenset()
    return frozenset(table.file_uris())


def written_maximum(uri: str, settings: dict[str, Any], before: frozenset[str],
                    column: str) -> str | None:
    """The greatest ``column`` value in the files added since ``before`` (None: no rows)."""
    options = storage_options_for(uri, settings) or None
    table = DeltaTable(uri, storage_options=options)
    folder = TableFolder(uri, options)
    best: Any = None
    for added in sorted(set(table.file_uris()) - before):
        with folder.read(_relative(table, added)) as parquet:
            values = parquet.read(columns=[column]).column(column)
        if len(values) == values.null_count:
            continue
        top = pc.max(values).as_py()
        best = top if best is None or top > best else best
    return _as_text(best)


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
