"""Commit Parquet files already written under a table's folder, in one Delta transaction.

Every path that writes its own data files and lets delta-rs commit them by name goes through
here: target-delta's in-place overwrite and atomic appends (``FilesInPlace``, with tap-rest-
api's batch files moved in) and the Spark engine's job commit. Each file's add action carries
its row count and column statistics read from its footer (``target_delta.stats``), so readers
skip it on a predicate as they would a file delta-rs wrote.

The commit runs delta-rs' post-commit hooks, so a checkpoint is written at the table's
``delta.checkpointInterval`` (delta-rs' default, 100, otherwise) as for its own writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.transaction import AddAction, create_table_with_add_actions

from target_delta.stats import StatsColumns, file_stats
from target_delta.table_folder import TableFolder


@dataclass(frozen=True)
class DataFile:
    """A Parquet file written under the table's folder and not yet named by any commit."""

    path: str
    """Relative to the table's root, ``/``-separated."""
    partition_values: Mapping[str, str | None] = field(default_factory=dict)


def add_actions(place: TableFolder, files: Sequence[DataFile],
                columns: StatsColumns) -> list[AddAction]:
    """The add action of each file: size, modification time, row count and statistics."""
    actions = []
    for data_file in files:
        size, modified = place.size_and_time(data_file.path)
        stats = file_stats(place.metadata(data_file.path), columns,
                           frozenset(data_file.partition_values))
        actions.append(AddAction(data_file.path, size, dict(data_file.partition_values),
                                 modified, True, stats))
    return actions


def commit_files(place: TableFolder, table: DeltaTable | None, files: Sequence[DataFile],
                 schema: pa.Schema, mode: str, partition_by: Sequence[str] = ()) -> int:
    """Name ``files`` in one commit (``mode``: ``append`` or ``overwrite``); the table is
    created if ``table`` is None, and a table created meanwhile by someone else then fails
    the commit, loudly. The rows committed."""
    configuration = table.metadata().configuration if table is not None else None
    actions = add_actions(place, files, StatsColumns.of(configuration))
    if table is None:
        create_table_with_add_actions(place.uri, DeltaSchema.from_arrow(schema), actions,
                                      mode="error", partition_by=list(partition_by) or None,
                                      storage_options=place.storage_options)
    else:
        table.create_write_transaction(actions, mode, schema,
                                       partition_by=list(partition_by) or None)
    return sum(json.loads(action.stats)["numRecords"] for action in actions)
