"""Delta output of ``rest-connector run --engine spark``: one atomic commit per job.

Each task writes its rows as one Parquet file under the table path (Arrow schema as
target-delta would give the table) and returns the file's add action; the driver commits all
of them in a single delta-rs transaction (overwrite or append). A failed job commits nothing
and removes the files its tasks wrote; files of task attempts Spark retried are removed after
the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from pyspark import TaskContext
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceWriter,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from rest_api_core.redact import install_log_redaction
from spark_rest_api import DELTA_FORMAT
from spark_rest_api.errors import reported_as
from spark_rest_api.options import local_table_path, required_option
from spark_rest_api.types import layout_of
from target_delta.commit import DataFile, commit_files
from target_delta.table_folder import TableFolder

logger = logging.getLogger("spark_rest_api.delta_writer")


@dataclass
class WrittenFiles(WriterCommitMessage):
    """The files one task wrote."""

    files: list[DataFile] = field(default_factory=list)


class DeltaFilesDataSource(DataSource):
    """``df.write.format("rest_connector_delta").option("path", ...)`` (engine use)."""

    @classmethod
    def name(cls) -> str:
        """The engine's internal format name."""
        return DELTA_FORMAT

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        """Write files per task, commit once."""
        install_log_redaction()
        with reported_as("Delta write"):
            path = local_table_path(required_option(self.options, "path", "the table path"))
            return DeltaFilesWriter(path, overwrite, schema)


class DeltaFilesWriter(DataSourceArrowWriter):
    """Parquet files from the tasks, one delta-rs commit from the driver."""

    def __init__(self, path: Path, overwrite: bool, schema: StructType) -> None:
        self.path = path
        self.mode = "overwrite" if overwrite else "append"
        self.schema = layout_of(schema).schema
        self.job = uuid.uuid4().hex[:12]

    def write(self, iterator: Iterator[pa.RecordBatch]) -> WrittenFiles:  # type: ignore[override]
        """Write this task's rows, cast to the table's Arrow schema, as one Parquet file."""
        install_log_redaction()
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        attempt = context.attemptNumber() if context is not None else 0
        name = f"part-{partition:05d}-{self.job}-{attempt}.parquet"
        target = self.path / name
        with reported_as(f"writing Delta table {self.path}, partition {partition}"):
            self.path.mkdir(parents=True, exist_ok=True)
            rows = 0
            with pq.ParquetWriter(target, self.schema) as parquet:
                for batch in iterator:
                    parquet.write_table(pa.Table.from_batches([batch]).cast(self.schema))
                    rows += batch.num_rows
            if rows == 0:
                target.unlink()
                return WrittenFiles()
        return WrittenFiles([DataFile(name)])

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:  # type: ignore[override]
        """Commit every task's files in one transaction (statistics read from their footers,
        as target-delta does: ``target_delta.commit``); then drop retried attempts' files."""
        files = [f for m in messages if isinstance(m, WrittenFiles) for f in m.files]
        with reported_as(f"committing Delta table {self.path}"):
            try:
                table: DeltaTable | None = DeltaTable(str(self.path))
            except TableNotFoundError:
                table = None
            rows = commit_files(TableFolder(str(self.path)), table, files, self.schema,
                                self.mode)
        self._remove_files(keep={f.path for f in files})
        logger.info("Delta table %s: %d rows in %d files, one commit (%s)", self.path, rows,
                    len(files), self.mode)

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:  # type: ignore[override]
        """Commit nothing; remove every file this job's tasks wrote."""
        self._remove_files(keep=set())

    def _remove_files(self, keep: set[str]) -> None:
        for written in self.path.glob(f"part-*-{self.job}-*.parquet"):
            if written.name not in keep:
                written.unlink(missing_ok=True)
