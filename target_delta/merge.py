"""MERGE by key, shared by target-delta's merge mode and the Spark engine's merge commit:
the last row of each key in the input updates the matching row or is inserted."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable


def quote_identifier(name: str) -> str:
    """A column name as a quoted SQL identifier for delta-rs predicates."""
    return '"' + name.replace('"', '""') + '"'


def last_row_per_key(batch: pa.RecordBatch, keys: Sequence[str]) -> pa.RecordBatch:
    """``batch`` with only the last row of each key (rows keep their original order)."""
    if batch.num_rows < 2:
        return batch
    table = pa.Table.from_batches([batch])
    index = pa.array(range(batch.num_rows), pa.int64())
    last = (
        table.select(list(keys)).append_column("__row", index)
        .group_by(list(keys), use_threads=False).aggregate([("__row", "max")])
        .column("__row_max").combine_chunks()
    )
    if len(last) == batch.num_rows:
        return batch
    return batch.take(pc.take(last, pc.sort_indices(last)))


def merge_rows(table: DeltaTable, rows: pa.RecordBatch, keys: Sequence[str]) -> None:
    """One delta-rs MERGE commit: ``rows`` (one per key) update the table's rows of the same
    keys and are inserted where no row matches; new columns join the table."""
    predicate = " AND ".join(
        f"target.{quote_identifier(k)} = source.{quote_identifier(k)}" for k in keys)
    (table.merge(rows, predicate=predicate, source_alias="source", target_alias="target",
                 merge_schema=True)
     .when_matched_update_all().when_not_matched_insert_all().execute())
