"""One stream's Delta table: append, merge, or rows staged and committed once.

``StreamTable.write`` takes one drained batch:

- ``append`` commits it (one commit per batch), or with ``append_commit: run`` stages it;
- ``merge`` keeps the last row per key and MERGEs it (update matched rows, insert the rest);
- ``overwrite`` stages it.

Staged rows are written where no reader sees them yet: as uncommitted data files in the
table's own folder, local or S3, one file set per partition value (``FilesInPlace``); when the
table is re-partitioned or a partition column has a type not written in place, appended to a
private staging table on local disk instead. ``finish`` then replaces the real table's
content (overwrite) or adds the rows (append) in **one** commit (naming the files in place;
copying the staged table), so a reader sees either the previous version or the complete new
one, and a run that fails before ``finish`` leaves the previous version as the latest. Both go
through the same schema evolution as an appended table.

Every write first reconciles the batch with the table schema (``target_delta.evolution``):
new columns are merged in, lossless widenings are applied (rewriting the stored data in the
same commit as the batch, when the table's own type must change), anything lossy is refused.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from target_delta.evolution import SchemaChangeError, plan, widen_batch
from target_delta.files_in_place import FilesInPlace
from target_delta.location import (
    STREAMED_WRITE,
    DeltaWriteError,
    Location,
    delta_errors,
    read_local,
    scan,
)
from target_delta.merge import last_row_per_key, merge_rows
from target_delta.partitions import supported
from target_delta.table_folder import TableFolder

APPEND, MERGE, OVERWRITE = "append", "merge", "overwrite"
BATCH, RUN = "batch", "run"
"""``append_commit``: commit every drained batch, or the stream's rows once, at its completion."""


class StreamTable:
    """Writes one stream's batches to its Delta table in the configured mode."""

    def __init__(
        self,
        stream: str,
        uri: str,
        *,
        mode: str,
        storage_options: dict[str, str] | None = None,
        partition_by: Sequence[str] = (),
        merge_keys: Sequence[str] = (),
        append_commit: str = BATCH,
        logger: logging.Logger | None = None,
    ) -> None:
        self.stream = stream
        self.mode = mode
        self.staged = mode == OVERWRITE or (mode == APPEND and append_commit == RUN)
        """Rows are staged and committed once, when the stream completes (``finish``)."""
        self.partition_by = list(partition_by)
        self.merge_keys = list(merge_keys)
        self.logger = logger or logging.getLogger(f"target_delta.{stream}")
        self.target = Location(stream, uri, storage_options)
        self.commits = 0
        """Commits made to the real table in this run."""
        self.version: int | None = None
        """The table version of the full-table read being staged (ACTIVATE_VERSION), if any."""
        self._staging_dir: str | None = None
        self._staging: Location | None = None
        self._in_place: FilesInPlace | None = None
        self._declared: pa.Schema | None = None
        self._committed = False

    # -- public ---------------------------------------------------------------------------

    @property
    def uri(self) -> str:
        """Where the real table is."""
        return self.target.uri

    def move(self, uri: str) -> None:
        """Point the stream at another table; only before anything was committed to it."""
        assert self.commits == 0, "a stream cannot move after a commit"
        self.target = Location(self.stream, uri, self.target.storage_options)
        if self._in_place is not None:
            self._in_place.move(TableFolder(uri, self.target.storage_options))

    @property
    def pending(self) -> bool:
        """True while staged rows (an overwrite's, an atomic append's) are not committed."""
        return self.staged and not self._committed

    def declare(self, schema: pa.Schema) -> None:
        """The stream's schema from its latest SCHEMA message (used for an empty overwrite)."""
        self._declared = schema

    def begin(self, version: int) -> None:
        """A full-table read of ``version`` starts (its opening ACTIVATE_VERSION, or its first
        record). In overwrite mode a new replacement is staged from here; rows staged for an
        earlier version that never completed are dropped, since that read was abandoned."""
        if self.staged:
            if self.version is not None and self._holds_rows():
                self.logger.warning(
                    "Stream %r: version %s started before version %s completed; the rows "
                    "staged for %s are dropped", self.stream, version, self.version, self.version,
                )
                self.discard()
            self._committed = False
        self.version = version

    def write(self, batch: pa.RecordBatch) -> None:
        """Write one drained batch according to the mode."""
        if batch.num_rows == 0:
            return
        if self.staged:
            self._committed = False  # rows after a commit start another replacement
            if in_place := self._files_in_place(batch.schema):
                self._guarded(in_place.write, batch)
            else:
                self._append(self._staging_location(), batch, partition_by=[])
        elif self.mode == MERGE:
            self._merge(batch)
        else:
            self._append(self.target, batch, partition_by=self.partition_by)
            self.commits += 1

    def write_file(self, path: Path, schema: pa.Schema, *, keep_source: bool) -> int | None:
        """Staged rows written in place: the Parquet file at ``path`` (of ``schema``, the
        stream's exact Arrow schema) becomes one of the staged data files (as it is, when the
        table is unpartitioned); its rows. None where that does not apply: write its batches
        instead."""
        in_place = self._files_in_place(schema) if self.staged else None
        if in_place is None:
            return None
        self._committed = False
        return self._guarded(in_place.adopt, path, schema, keep_source=keep_source)

    def finish(self) -> None:
        """Commit everything staged, in one commit: an overwrite replaces the table (an
        empty one too); an atomic append adds its rows, if any."""
        if self._committed or not self.staged:
            return
        if self.mode == APPEND:
            committed = self._holds_rows()
            if committed:
                self._append_staged()
        elif self._in_place is not None and self._holds_rows():
            self._guarded(self._in_place.commit, self.target.table())
            committed = True
        else:
            self._write_staged()
            committed = True
        self.commits += committed
        self._committed = True
        self.discard()
        if committed:
            self.logger.info("Committed the stream's rows to %s in one commit (%s)", self.uri,
                             self.mode)

    def _append_staged(self) -> None:
        """An atomic append's rows added in one commit; if the table's own column types
        must widen, its stored data is rewritten in that same commit."""
        table = self.target.table()
        if self._in_place is not None and self._in_place.holds_files:
            schema = self._in_place.schema
            assert schema is not None
            stored = None if table is None else pa.schema(table.schema().to_arrow())
            if stored is not None and any(schema.field(f.name).type != f.type for f in stored):
                self._rewrite(self.target, schema, extra=self._in_place.batches())
            else:
                self._guarded(self._in_place.commit, table, APPEND)
            return
        assert self._staging is not None
        staged = self._staging.table()
        assert staged is not None
        with closing(read_local(staged)) as data:
            self._guarded(
                write_deltalake, table or self.uri, data, mode="append", schema_mode="merge",
                partition_by=self.partition_by or None, writer_properties=STREAMED_WRITE,
                storage_options=self.target.storage_options,
            )

    def _write_staged(self) -> None:
        """The staged table's rows (or none, with the declared schema) replace the table's."""
        staged = self._staging.table() if self._staging else None
        if staged is not None:
            data = read_local(staged)
        else:
            data = pa.RecordBatchReader.from_batches(self._declared or pa.schema([]), [])
        with closing(data):
            self._guarded(
                write_deltalake, self.target.uri, data, mode="overwrite",
                schema_mode="overwrite", partition_by=self.partition_by or None,
                writer_properties=STREAMED_WRITE, storage_options=self.target.storage_options,
            )

    def discard(self) -> None:
        """Forget staged data without committing it (a failed or interrupted run)."""
        if self._in_place is not None:
            self._in_place.discard()
            self._in_place = None
        if self._staging_dir:
            shutil.rmtree(self._staging_dir, ignore_errors=True)
        self._staging_dir = None
        self._staging = None

    # -- internals -----------------------------------------------------------------------

    def _guarded(self, call, *args, **kwargs):  # noqa: ANN001
        with delta_errors(self.stream, self.uri):
            return call(*args, **kwargs)

    def _holds_rows(self) -> bool:
        """Rows of an overwrite were written (staged, or as files in place)."""
        return self._staging is not None or (
            self._in_place is not None and self._in_place.holds_files)

    def _files_in_place(self, schema: pa.Schema) -> FilesInPlace | None:
        """Where this run's staged rows go when the table keeps its partitioning and its
        partition columns (if any) have types written in place (``partitions``). Decided
        once, at the first rows (a run that started staging elsewhere stays there)."""
        if self._in_place is None and self._staging is None:
            table = self.target.table()
            existing = None if table is None else list(table.metadata().partition_columns)
            partition_by = existing if existing is not None and self.mode == APPEND else (
                self.partition_by)
            if existing not in (None, partition_by) or not supported(schema, partition_by):
                return None
            stored = (pa.schema(table.schema().to_arrow())
                      if table is not None and self.mode == APPEND else None)
            place = TableFolder(self.target.uri, self.target.storage_options)
            self._in_place = FilesInPlace(place, stored, partition_by)
        return self._in_place

    def _staging_location(self) -> Location:
        if self._staging is None:
            self._staging_dir = tempfile.mkdtemp(prefix="target-delta-")
            atexit.register(shutil.rmtree, self._staging_dir, True)
            self._staging = Location(self.stream, str(Path(self._staging_dir) / "table"), None)
        return self._staging

    @staticmethod
    def _prepare(table: DeltaTable | None,
                 batch: pa.RecordBatch) -> tuple[pa.RecordBatch, bool]:
        """The batch cast to the table's (evolved) schema, and whether the table's stored data
        must be rewritten to that schema."""
        stored = None if table is None else pa.schema(table.schema().to_arrow())
        schema, rewrite = plan(stored, batch)
        return widen_batch(batch, schema), rewrite

    def _append(self, where: Location, batch: pa.RecordBatch, partition_by: list[str]) -> None:
        table = where.table()
        batch, rewrite = self._prepare(table, batch)
        if rewrite:
            self._rewrite(where, batch.schema, extra=[batch])
            return
        self._guarded(
            write_deltalake, table or where.uri, batch, mode="append",
            schema_mode="merge", partition_by=partition_by or None,
            storage_options=where.storage_options,
        )

    def _rewrite(self, where: Location, schema: pa.Schema,
                 extra: Sequence[pa.RecordBatch] = ()) -> None:
        """Rewrite the table's stored data (widened to ``schema``) plus ``extra``, one commit."""
        table = where.table()
        assert table is not None
        self.logger.warning(
            "Stream %r: widening column types of %s (%s); rewriting its data in one commit",
            self.stream, where.uri if where is self.target else "this run's staged data",
            ", ".join(f"{f.name}: {f.type}" for f in schema),
        )
        stored_data = scan(table).to_reader()
        refused: list[SchemaChangeError] = []

        def batches() -> Iterator[pa.RecordBatch]:
            for stored in stored_data:
                try:
                    yield widen_batch(stored, schema)
                except SchemaChangeError as exc:  # raised inside delta-rs' read of the stream
                    refused.append(exc)
                    raise
            yield from extra

        # An abandoned scan of a delta-rs dataset can crash the interpreter at exit: close it.
        with closing(stored_data):
            try:
                self._guarded(
                    write_deltalake, table, pa.RecordBatchReader.from_batches(schema, batches()),
                    mode="overwrite", schema_mode="overwrite", writer_properties=STREAMED_WRITE,
                    partition_by=list(table.metadata().partition_columns) or None,
                    storage_options=where.storage_options,
                )
            except DeltaWriteError:
                if refused:
                    raise refused[0] from None
                raise

    def _merge(self, batch: pa.RecordBatch) -> None:
        batch = last_row_per_key(batch, self.merge_keys)
        table = self.target.table()
        batch, rewrite = self._prepare(table, batch)
        if table is None:
            self._guarded(write_deltalake, self.uri, batch, mode="append",
                          partition_by=self.partition_by or None,
                          storage_options=self.target.storage_options)
            self.commits += 1
            return
        if rewrite:
            self._rewrite(self.target, batch.schema)
            self.commits += 1
            table = self.target.table()
        self._guarded(merge_rows, table, batch, self.merge_keys)
        self.commits += 1
