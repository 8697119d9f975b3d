"""Delta output of ``rest-connector run --engine spark``: one atomic commit per job.

Each task writes its rows as one Parquet file (one per partition value of a partitioned
table, in target-delta's layout: ``spark_rest_api.task_files``) straight into the table's
folder, local or in an object store (``s3://`` and the other URIs delta-rs opens, with
target-delta's ``storage_options`` and credential settings: ``target_delta.table_folder``),
in the Arrow schema target-delta would give the table, and returns the files' names. The
driver then commits all of them in a single transaction: overwrite and append name the files
in one commit (``target_delta.commit``); merge reads the tasks' staged files (under
``_staging/``, which no reader looks at), keeps the last row per key and runs one delta-rs
MERGE (``target_delta.merge``). A failed job commits nothing and removes the files its tasks
wrote; files of task attempts Spark retried are removed after the commit.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError
from pyspark import TaskContext
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceWriter,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from rest_api_core.errors import ConfigError
from rest_api_core.redact import install_log_redaction
from spark_rest_api import DELTA_FORMAT
from spark_rest_api.errors import reported_as
from spark_rest_api.options import required_option, settings_option
from spark_rest_api.task_files import TaskFiles
from spark_rest_api.types import layout_of
from target_delta.commit import DataFile, commit_files
from target_delta.merge import last_row_per_key, merge_rows
from target_delta.partitions import supported
from target_delta.storage import register_secret_options, storage_options_for
from target_delta.table_folder import TableFolder

logger = logging.getLogger("spark_rest_api.delta_writer")

ABORT_QUIET_SECONDS = 2.0
"""How long a failed job's folder must stay free of new files of the job before the abort
ends (the other tasks are being cancelled meanwhile)."""
ABORT_WAIT_SECONDS = 20.0
"""The longest a failed job's abort waits for its other tasks' files."""

STAGING = "_staging/"
"""Where a merge's tasks put their rows: inside the table's folder, never named by a commit."""


@dataclass
class WrittenFiles(WriterCommitMessage):
    """The files one task wrote."""

    files: list[DataFile] = field(default_factory=list)


class DeltaFilesDataSource(DataSource):
    """``df.write.format("rest_connector_delta").option("path", ...)`` (engine use); option
    ``config``: target-delta's settings (``mode``, ``merge_keys``, ``storage_options``, the
    AWS credential settings)."""

    @classmethod
    def name(cls) -> str:
        """The engine's internal format name."""
        return DELTA_FORMAT

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        """Write files per task, commit once."""
        install_log_redaction()
        with reported_as("Delta write"):
            uri = required_option(self.options, "path", "the table path")
            settings = settings_option(self.options) if self.options.get("config") else {}
            mode = "overwrite" if overwrite else "append"
            keys: list[str] = []
            if settings.get("mode") == "merge":
                mode, keys = "merge", _merge_keys(settings, schema)
            options = storage_options_for(uri, settings)
            layout = layout_of(schema).schema
            partition_by = _partition_by(settings, uri, options, mode, layout)
            return DeltaFilesWriter(uri, options, mode, layout, keys, partition_by)


def _partition_by(settings: dict[str, Any], uri: str, options: dict[str, str], mode: str,
                  schema: pa.Schema) -> list[str]:
    """The table's partition columns: an existing table keeps its own (as target-delta's
    appends and merges do; an overwrite that asks for others is refused: the Singer engine
    rewrites the table to change them), a new one takes ``partition_by``."""
    wanted = list(settings.get("partition_by") or [])
    try:
        existing = list(DeltaTable(uri, storage_options=options or None)
                        .metadata().partition_columns)
    except TableNotFoundError:
        existing = None
    if existing is not None and mode == "overwrite" and wanted and wanted != existing:
        raise ConfigError(f"partition_by: the table at {uri} is partitioned by "
                          f"{existing or 'nothing'}, not {wanted}; the Spark engine keeps a "
                          "table's partitioning (run once on the Singer engine to change it)")
    columns = existing if existing is not None else wanted
    for name in columns:
        if name not in schema.names:
            raise ConfigError(f"partition_by: {name!r} is not a column of the stream "
                              f"({', '.join(schema.names)})")
    if not supported(schema, columns):
        shown = ", ".join(f"{n}: {schema.field(n).type}" for n in columns)
        raise ConfigError(f"partition_by: the Spark engine partitions by string, integer, "
                          f"boolean or date columns ({shown}); use the Singer engine")
    return columns


def _merge_keys(settings: dict[str, Any], schema: StructType) -> list[str]:
    keys = settings.get("merge_keys") or []
    if not keys:
        raise ConfigError("merge_keys: required with mode 'merge' (the columns that identify "
                          "a row)")
    missing = [k for k in keys if k not in schema.fieldNames()]
    if missing:
        raise ConfigError(f"merge_keys: {', '.join(map(repr, missing))} not among the "
                          f"stream's columns ({', '.join(schema.fieldNames())})")
    return list(keys)


class DeltaFilesWriter(DataSourceArrowWriter):
    """Parquet files from the tasks, one delta-rs commit from the driver."""

    def __init__(self, uri: str, storage_options: dict[str, str], mode: str,
                 schema: pa.Schema, merge_keys: list[str], partition_by: list[str]) -> None:
        self.uri = uri
        self.storage_options = storage_options
        self.mode = mode
        self.merge_keys = merge_keys
        self.schema = schema
        self.partition_by = partition_by
        """Of the table; a merge's staged files keep every column in one file per task."""
        self.job = uuid.uuid4().hex[:12]
        self.folder = STAGING if mode == "merge" else ""

    def _place(self) -> TableFolder:
        register_secret_options(self.storage_options)  # also in the task's own process
        return TableFolder(self.uri, self.storage_options)

    def write(self, iterator: Iterator[pa.RecordBatch]) -> WrittenFiles:  # type: ignore[override]
        """Write this task's rows, cast to the table's Arrow schema, as one Parquet file (one
        per partition value of a partitioned table); a failed task deletes its files."""
        install_log_redaction()
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        attempt = context.attemptNumber() if context is not None else 0
        name = f"part-{partition:05d}-{self.job}-{attempt}.parquet"
        with reported_as(f"writing Delta table {self.uri}, partition {partition}"):
            files = TaskFiles(self._place(), self.schema,
                              [] if self.mode == "merge" else self.partition_by,
                              self.folder, name)
            try:
                for batch in iterator:
                    files.write(batch)
            except BaseException:
                files.discard()
                raise
        return WrittenFiles(files.close())

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:  # type: ignore[override]
        """Commit every task's files in one transaction; then drop retried attempts' files
        (and a merge's staged files)."""
        files = sorted((f for m in messages if isinstance(m, WrittenFiles) for f in m.files),
                       key=lambda f: f.path)
        place = self._place()
        with reported_as(f"committing Delta table {self.uri}"):
            try:
                table: DeltaTable | None = DeltaTable(self.uri,
                                                      storage_options=self.storage_options)
            except TableNotFoundError:
                table = None
            if self.mode == "merge":
                rows = self._merge(place, table, files)
            else:
                rows = commit_files(place, table, files, self.schema, self.mode,
                                    self.partition_by)
        kept = set() if self.mode == "merge" else {f.path for f in files}
        self._remove_files(place, keep=kept)
        logger.info("Delta table %s: %d rows from %d files, one commit (%s)", self.uri, rows,
                    len(files), self.mode)

    def _merge(self, place: TableFolder, table: DeltaTable | None,
               files: list[DataFile]) -> int:
        """The staged rows, in partition order, last row per key, in one MERGE (or the
        table's first commit). The rows merged."""
        staged = pa.concat_tables([place.read(f.path).read() for f in files],
                                  promote_options="none") if files else self.schema.empty_table()
        rows = last_row_per_key(pa.RecordBatch.from_arrays(
            [column.combine_chunks() for column in staged.columns], schema=staged.schema),
            self.merge_keys)
        if table is None:
            write_deltalake(self.uri, rows, mode="append",
                            partition_by=self.partition_by or None,
                            storage_options=self.storage_options)
        else:
            merge_rows(table, rows, self.merge_keys)
        return rows.num_rows

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:  # type: ignore[override]
        """Commit nothing; remove every file this job's tasks wrote. Spark aborts as soon as
        one task failed, while others may still be closing a file: the folder is listed
        again until no new file of this job shows up for ``ABORT_QUIET_SECONDS`` (at most
        ``ABORT_WAIT_SECONDS``; a file closed later still is named by no commit, invisible
        to readers, and Delta's VACUUM removes it)."""
        place = self._place()
        started = quiet_since = time.monotonic()
        while True:
            if self._remove_files(place, keep=set()):
                quiet_since = time.monotonic()
            now = time.monotonic()
            if now - quiet_since >= ABORT_QUIET_SECONDS or now - started >= ABORT_WAIT_SECONDS:
                return
            time.sleep(ABORT_QUIET_SECONDS / 4)

    def _remove_files(self, place: TableFolder, keep: set[str]) -> int:
        """Delete this job's files but ``keep``; how many."""
        removed = 0
        for name in place.names(self.folder.rstrip("/"),
                                recursive=bool(self.partition_by) and not self.folder):
            if f"-{self.job}-" in name and name not in keep:
                place.delete(name)
                removed += 1
        return removed
