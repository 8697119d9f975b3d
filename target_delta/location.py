"""Where a stream's table is (opened lazily, kept up to date), delta-rs errors as one
redacted line naming the table, and reading a table back batch by batch with flat memory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties
from deltalake.exceptions import DeltaError, TableNotFoundError

from rest_api_core.errors import ConnectorError
from rest_api_core.redact import SECRETS
from target_delta.evolution import widen_batch

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DeltaWriteError(ConnectorError):
    """delta-rs refused a write; the message names the table and is redacted."""


@contextmanager
def delta_errors(stream: str, uri: str) -> Iterator[None]:
    """delta-rs and storage errors as ``DeltaWriteError`` naming the stream and table."""
    try:
        yield
    except (DeltaError, OSError) as exc:
        detail = " ".join(_ANSI.sub("", str(exc)).replace("↳", "->").split())
        raise DeltaWriteError(
            f"stream {stream!r}: writing {uri} failed: {SECRETS.redact(detail)[:2000]}"
        ) from None


# Whole-table writes (the overwrite's commit, a widening rewrite) stream their input: read
# one batch ahead, and flush row groups of 128k rows instead of the default 1M, so that memory
# stays flat however large the table is.
STREAMED_WRITE = WriterProperties(max_row_group_size=131_072)


def scan(table: DeltaTable) -> ds.Scanner:
    return table.to_pyarrow_dataset().scanner(batch_readahead=1, fragment_readahead=1)


def read_local(table: DeltaTable) -> pa.RecordBatchReader:
    """A local table's data file by file, each batch given the table's latest schema (files
    written before a column was added lack it). Plain Parquet reads: lighter than a dataset
    scan through delta-rs' Python filesystem."""
    schema = pa.schema(table.schema().to_arrow())

    def batches() -> Iterator[pa.RecordBatch]:
        for uri in table.file_uris():
            with pq.ParquetFile(uri) as data_file:
                for batch in data_file.iter_batches():
                    yield widen_batch(batch, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


class Location:
    """A table URI with its storage options, opened lazily and kept up to date."""

    def __init__(self, stream: str, uri: str, storage_options: dict[str, str] | None) -> None:
        self.stream = stream
        self.uri = uri
        self.storage_options = storage_options or None
        self._table: DeltaTable | None = None

    def table(self) -> DeltaTable | None:
        """The table at its latest version, or None when it does not exist yet."""
        with delta_errors(self.stream, self.uri):
            if self._table is None:
                try:
                    self._table = DeltaTable(self.uri, storage_options=self.storage_options)
                except TableNotFoundError:
                    return None
            else:
                self._table.update_incremental()
        return self._table
