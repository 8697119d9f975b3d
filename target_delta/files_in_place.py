"""An overwrite written as Parquet files straight into the table's directory, committed once.

A data file that no commit names is invisible to every Delta reader. So the rows of a
replacement can be written where they will stay, while the previous version remains the
table's latest; the closing commit then names the new files and retires the old ones, with no
second pass over the rows. Tap-rest-api's batch files (Parquet of the stream's exact schema)
are moved in as they are.

A partitioned table gets one file set per partition value (``target_delta.partitions``). An
atomic append (``append_commit: run``) stages its rows the same way and adds them in one
commit. A run that fails or is stopped deletes the files it wrote (a run killed outright leaves
them unnamed, and Delta's VACUUM removes them). Local tables only: S3 tables, and partition
columns of other types, stage in a private table first (``StreamTable``).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
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


@dataclass
class _DataFile:
    name: str
    """Relative to the table's directory (``country=FR/part-...`` when partitioned)."""
    schema: pa.Schema
    """The table schema the file was written for (partition columns included)."""
    rows: int
    partition_values: dict[str, str | None] = field(default_factory=dict)


class FilesInPlace:
    """The uncommitted data files of one overwrite, in the table's directory."""

    def __init__(self, directory: Path, schema: pa.Schema | None = None,
                 partition_by: Sequence[str] = ()) -> None:
        self.directory = directory
        self.partition_by = list(partition_by)
        """One file set per value of these columns (``target_delta.partitions``)."""
        self.schema: pa.Schema | None = schema
        """The table schema after every file so far (new columns merged, types widened),
        starting from ``schema`` (an append's table)."""
        self._run = uuid.uuid4().hex[:12]
        self._files: list[_DataFile] = []
        self._count = 0
        self._made_directory = False
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
        pq.write_table(data, self.directory / name)
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
        if keep_source:
            shutil.copyfile(path, self.directory / name)
        else:
            shutil.move(path, self.directory / name)
        self.schema = schema
        self._files.append(_DataFile(name, schema, rows))
        return rows

    def move(self, directory: Path) -> None:
        """The table moved (several streams under one path): take the files along."""
        old, made_old = self.directory, self._made_directory
        self.directory, self._made_directory = directory, False
        if self._files:
            self._make_directory()
            for data_file in self._files:
                (directory / data_file.name).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(old / data_file.name, directory / data_file.name)
        if made_old:
            with contextlib.suppress(OSError):  # not empty: the new directory is inside it
                old.rmdir()

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
        commit_files(self.directory, table, files, schema, mode, self.partition_by)
        self._files.clear()
        self._made_directory = False  # it holds the table now

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows of every file, in the final schema (for a commit that rewrites the
        table's stored data too)."""
        assert self.schema is not None
        for data_file in self._files:
            with pq.ParquetFile(self.directory / data_file.name) as parquet:
                for batch in parquet.iter_batches():
                    for name, value in data_file.partition_values.items():
                        kind = self.schema.field(name).type
                        batch = batch.append_column(
                            name, pa.array([value] * batch.num_rows, pa.string()).cast(kind))
                    yield widen_batch(batch, self.schema)

    def discard(self) -> None:
        """Delete the files not committed (and the directory, if this run made it empty)."""
        for data_file in self._files:
            path = self.directory / data_file.name
            path.unlink(missing_ok=True)
            for parent in path.relative_to(self.directory).parents[:-1]:
                with contextlib.suppress(OSError):  # a partition folder others also use
                    (self.directory / parent).rmdir()
        self._files.clear()
        self._remove_made_directory()

    # -- internals -----------------------------------------------------------------------

    def _new_name(self, values: dict[str, str | None]) -> str:
        self._make_directory()
        self._count += 1
        name = f"part-{self._count:05d}-{self._run}.parquet"
        if not values:
            return name
        (self.directory / folder(values)).mkdir(parents=True, exist_ok=True)
        return f"{folder(values)}/{name}"

    def _make_directory(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True)
            self._made_directory = True

    def _remove_made_directory(self) -> None:
        if self._made_directory:
            self._made_directory = False
            with contextlib.suppress(OSError):  # not empty: a table or other files live there
                self.directory.rmdir()

    def _rewrite(self, data_file: _DataFile, schema: pa.Schema) -> None:
        old = self.directory / data_file.name
        in_file = pa.schema([f for f in schema if f.name not in self.partition_by])
        widened = widen_batch(pq.read_table(old), in_file)
        data_file.name = self._new_name(data_file.partition_values)
        pq.write_table(pa.Table.from_batches([widened]), self.directory / data_file.name)
        data_file.schema = schema
        old.unlink()
