"""One Spark task's rows as Parquet files in a Delta table's folder: a single file, or one per
partition value of ``partition_by`` in target-delta's layout (``country=FR/part-...``, the
values in the add action: ``target_delta.partitions``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from target_delta.commit import DataFile
from target_delta.partitions import folder, split
from target_delta.table_folder import TableFolder


@dataclass
class _OpenFile:
    data_file: DataFile
    writer: pq.ParquetWriter


class TaskFiles:
    """The files of one task attempt, opened as rows of each partition value arrive (a task
    without rows writes no file). ``name`` is the file name every file shares;
    ``folder_prefix`` a folder under the table's root (a merge's staging folder)."""

    def __init__(self, place: TableFolder, schema: pa.Schema, partition_by: Sequence[str],
                 folder_prefix: str, name: str) -> None:
        self.place = place
        self.schema = schema
        self.partition_by = list(partition_by)
        self.in_file = pa.schema([f for f in schema if f.name not in self.partition_by])
        """What a data file holds: a partitioned table's values are in its add actions."""
        self.prefix = folder_prefix
        self.name = name
        self._open: dict[tuple[tuple[str, str | None], ...], _OpenFile] = {}

    def write(self, batch: pa.RecordBatch) -> None:
        """``batch`` cast to the table's schema, into the file of each partition value."""
        if batch.num_rows == 0:
            return
        rows = pa.Table.from_batches([batch]).cast(self.schema)
        if not self.partition_by:
            self._file({}).writer.write_table(rows)
            return
        for values, part in split(rows, self.partition_by):
            self._file(values).writer.write_table(part)

    def close(self) -> list[DataFile]:
        """Close every file; the data files written, in the order they were opened."""
        for open_file in self._open.values():
            open_file.writer.close()
        return [open_file.data_file for open_file in self._open.values()]

    def discard(self) -> None:
        """Close and delete every file (a task that failed leaves nothing behind, whatever
        the driver's clean-up finds when it lists the folder)."""
        for open_file in self._open.values():
            with contextlib.suppress(Exception):  # the task's own error is the one to report
                open_file.writer.close()
            with contextlib.suppress(Exception):
                self.place.delete(open_file.data_file.path)

    def _file(self, values: dict[str, str | None]) -> _OpenFile:
        key = tuple(values.items())
        if key not in self._open:
            path = f"{self.prefix}{folder(values)}/{self.name}" if values else (
                f"{self.prefix}{self.name}")
            self._open[key] = _OpenFile(DataFile(path, values),
                                        self.place.parquet_writer(path, self.in_file))
        return self._open[key]
