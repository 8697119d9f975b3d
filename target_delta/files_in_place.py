"""Staged rows written as Parquet files straight into the table's folder, committed once.

A data file that no commit names is invisible to every Delta reader. So the rows of a
replacement can be written where they will stay, while the previous version remains the
table's latest; the closing commit then names the new files and retires the old ones, with no
second pass over the rows. Tap-rest-api's batch files (Parquet of the stream's exact schema)
are moved in as they are.

A partitioned table gets one file set per partition value (``target_delta.partitions``). An
atomic append (``append_commit: run``) stages its rows the same way and adds them in one
commit. The folder is local or in an object store (``TableFolder``). A run that fails or is
stopped deletes the files it wrote (a run killed outright leaves them unnamed, and Delta's
VACUUM removes them). Partition columns of other types stage in a private table first
(``StreamTable``).
"""

from __future__ import annotations

import atexit
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

from target_delta.commit import DataFile, commit_files
from target_delta.evolution import plan, widen_batch
from target_delta.partitions import folder, split
from target_delta.table_folder import TableFolder


@dataclass
class _DataFile:
    name: str
    """Relative to the table's root (``country=FR/part-...`` when partitioned)."""
    schema: pa.Schema
    """The table schema the file was written for (partition columns included)."""
    rows: int
    partition_values: dict[str, str | None] = field(default_factory=dict)


class FilesInPlace:
    """The uncommitted data files of one run's staged rows, in the table's folder."""

    def __init__(self, place: TableFolder, schema: pa.Schema | None = None,
                 partition_by: Sequence[str] = ()) -> None:
        self.place = place
        self.partition_by = list(partition_by)
        """One file set per value of these columns (``target_delta.partitions``)."""
        self.schema: pa.Schema | None = schema
        """The table schema after every file so far (new columns merged, types widened),
        starting from ``schema`` (an append's table)."""
        self._run = uuid.uuid4().hex[:12]
        self._files: list[_DataFile] = []
        self._count = 0
        atexit.register(self.discard)  # an interrupted run leaves no files behind

    @property
    def holds_files(self) -> bool:
        """True once a file was written or taken."""
        return bool(self._files)

    @property
    def rows(self) -> int:
        """Rows written so far."""
        return sum(f.rows for f in self._files)

    def write(self, batch: pa.RecordBatch) -> None:
        """Write ``batch`` as one new data file (refusing a lossy schema change, as an append
        would: ``target_delta.evolution``)."""
        self.schema, _ = plan(self.schema, batch)
        batch = widen_batch(batch, self.schema)
        if not self.partition_by:
            self._write_file(pa.Table.from_batches([batch]), {})
            return
        for values, rows in split(batch, self.partition_by):
            self._write_file(rows, values)

    def _write_file(self, data: pa.Table, values: dict[str, str | None]) -> None:
        assert self.schema is not None
        name = self._new_name(values)
        self.place.write(name, data)
        self._files.append(_DataFile(name, self.schema, data.num_rows, values))

    def adopt(self, path: Path, schema: pa.Schema, *, keep_source: bool) -> int:
        """Take the Parquet file at ``path`` (of ``schema``) as one data file: moved in (copied
        with ``keep_source``) when it has the table schema so far and no partitions, else read
        and written. Its rows."""
        if self.partition_by or (self.schema is not None and schema != self.schema):
            table = pq.read_table(path)
            for batch in table.to_batches():
                self.write(batch)
            if not keep_source:
                path.unlink()
            return table.num_rows
        rows = pq.read_metadata(path).num_rows
        if rows == 0:  # nothing to add
            if not keep_source:
                path.unlink()
            return 0
        name = self._new_name({})
        self.place.put(path, name, keep_source=keep_source)
        self.schema = schema
        self._files.append(_DataFile(name, schema, rows))
        return rows

    def move(self, place: TableFolder) -> None:
        """The table moved (several streams under one path): take the files along."""
        old, self.place = self.place, place
        for data_file in self._files:
            old.move_to(place, data_file.name)
        old.remove_if_made()  # kept when not empty: the new folder is inside it

    def commit(self, table: DeltaTable | None, mode: str = "overwrite") -> None:
        """Replace the table's content with these files (``mode`` overwrite) or add them
        (append), in one commit (the table is created if it does not exist). Files written
        before a schema change are first rewritten to the final schema; every file then has
        exactly the table's columns."""
        assert self.schema is not None, "nothing to commit"
        schema = self.schema
        for data_file in self._files:
            if data_file.schema != schema:
                self._rewrite(data_file, schema)
        files = [DataFile(f.name, f.partition_values) for f in self._files]
        commit_files(self.place, table, files, schema, mode, self.partition_by)
        self._files.clear()
        self.place.keep()  # it holds the table now

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows of every file, in the final schema (for a commit that rewrites the
        table's stored data too)."""
        assert self.schema is not None
        for data_file in self._files:
            with self.place.read(data_file.name) as parquet:
                for batch in parquet.iter_batches():
                    for name, value in data_file.partition_values.items():
                        kind = self.schema.field(name).type
                        batch = batch.append_column(
                            name, pa.array([value] * batch.num_rows, pa.string()).cast(kind))
                    yield widen_batch(batch, self.schema)

    def discard(self) -> None:
        """Delete the files not committed (and the directory, if this run made it empty)."""
        for data_file in self._files:
            self.place.delete(data_file.name)
        self._files.clear()
        self.place.remove_if_made()

    # -- internals -----------------------------------------------------------------------

    def _new_name(self, values: dict[str, str | None]) -> str:
        self._count += 1
        name = f"part-{self._count:05d}-{self._run}.parquet"
        return f"{folder(values)}/{name}" if values else name

    def _rewrite(self, data_file: _DataFile, schema: pa.Schema) -> None:
        old = data_file.name
        in_file = pa.schema([f for f in schema if f.name not in self.partition_by])
        with self.place.read(old) as parquet:
            widened = widen_batch(parquet.read(), in_file)
        data_file.name = self._new_name(data_file.partition_values)
        self.place.write(data_file.name, pa.Table.from_batches([widened]))
        data_file.schema = schema
        self.place.delete(old)
