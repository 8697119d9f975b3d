"""A stream's records as Parquet files of its exact Arrow schema, for Singer BATCH messages.

A target that reads these files (target-delta) takes their columns as they are: the schema
comes from the Singer SCHEMA through the same mapping and conversion the target applies to
RECORD messages (``rest_api_core.arrow``), so both paths write the same table. Records are
converted a chunk at a time and appended to the open file, so memory holds one chunk, not a file.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from rest_api_core.arrow.convert import record_batch
from rest_api_core.arrow.schema import StreamLayout, stream_layout

CHUNK_ROWS = 10_000
"""Records converted to Arrow at once."""


class ParquetBatchFiles:
    """Writes one stream's records to Parquet files of ``rows_per_file`` rows at most."""

    def __init__(self, directory: Path, prefix: str, stream: str, schema: dict[str, Any],
                 rows_per_file: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._name = f"{prefix}{stream}-{uuid.uuid4().hex[:12]}"
        self._rows_per_file = max(1, rows_per_file)
        self._layout: StreamLayout = stream_layout(schema)
        self._pending: list[dict[str, Any]] = []
        self._writer: pq.ParquetWriter | None = None
        self._path: Path | None = None
        self._rows_in_file = 0
        self._files = 0

    def add(self, record: dict[str, Any]) -> str | None:
        """Take one record; return the URI of a file it completed, if any."""
        self._pending.append(record)
        if len(self._pending) >= CHUNK_ROWS or (
            self._rows_in_file + len(self._pending) >= self._rows_per_file
        ):
            self._write_pending()
            if self._rows_in_file >= self._rows_per_file:
                return self.close()
        return None

    def close(self) -> str | None:
        """Write what is pending and close the file; its URI, or None if it has no rows."""
        self._write_pending()
        if self._writer is None or self._path is None:
            return None
        self._writer.close()
        uri = self._path.as_uri()
        self._writer, self._path, self._rows_in_file = None, None, 0
        return uri

    def change_schema(self, schema: dict[str, Any]) -> str | None:
        """Close the file of the previous schema (its URI, if any); later rows follow
        ``schema``."""
        closed = self.close()
        self._layout = stream_layout(schema)
        return closed

    def discard(self) -> None:
        """Drop the open file (the stream failed: it is never announced)."""
        self._pending.clear()
        if self._writer is not None and self._path is not None:
            self._writer.close()
            self._path.unlink(missing_ok=True)
        self._writer, self._path, self._rows_in_file = None, None, 0

    def _write_pending(self) -> None:
        if not self._pending:
            return
        batch = record_batch(self._pending, self._layout)
        self._pending.clear()
        if self._writer is None:
            self._files += 1
            self._path = self._directory / f"{self._name}-{self._files:05d}.parquet"
            self._writer = pq.ParquetWriter(self._path, self._layout.schema)
        self._writer.write_batch(batch)
        self._rows_in_file += batch.num_rows
