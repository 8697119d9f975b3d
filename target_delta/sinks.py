"""The sink: collects a stream's records and hands each drained batch, as Arrow, to its table."""

from __future__ import annotations

import typing as t
from functools import cached_property

import pyarrow.parquet as pq
from singer_sdk.sinks import BatchSink

from rest_api_core.arrow.convert import record_batch
from rest_api_core.arrow.schema import stream_layout
from rest_api_core.local_files import local_path
from rest_api_core.sdk_seam import BaseBatchFileEncoding, BatchFileFormat, SinkHooks

if t.TYPE_CHECKING:
    from target_delta.table import StreamTable
    from target_delta.target import TargetDelta


class DeltaSink(SinkHooks, BatchSink):
    """One stream (for one SCHEMA): records → Arrow record batch → ``StreamTable``.

    A stream keeps one ``StreamTable`` for the whole run even when a new SCHEMA replaces this
    sink, so an overwrite stages and commits every batch of the run together.
    """

    MAX_SIZE_DEFAULT = 10_000

    def __init__(self, target: TargetDelta, stream_name: str, schema: dict,
                 key_properties: t.Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self.layout = stream_layout(self.schema)
        self.table: StreamTable = target.stream_table(stream_name, self.key_properties)
        self.table.declare(self.layout.schema)

    @cached_property
    def validate_schema(self) -> bool:
        """JSON Schema validation per record only when ``validate_records`` is set: building
        the Arrow columns already checks every value against its declared type."""
        return bool(self.config.get("validate_records", False))

    def process_batch(self, context: dict) -> None:
        """Convert the drained records to one record batch and write it."""
        records = context.get("records") or []
        if records:
            self.table.write(record_batch(records, self.layout))
            context["records"] = []

    def process_batch_files(self, encoding: BaseBatchFileEncoding,
                            files: t.Sequence[str]) -> None:
        """A BATCH message: rows buffered before it are written first (arrival order). A local
        Parquet file of exactly this stream's Arrow schema (tap-rest-api writes them) is
        written as it is, without a pass over its rows (staged rows of an unpartitioned table: the
        file itself becomes a data file of the table: ``StreamTable.write_file``); any other
        file goes the SDK's way, its records converted like RECORD messages."""
        self._target.drain_one(self)
        keep_source = not self.config.get("delete_batch_files")
        for uri in files:
            path = local_path(uri)
            exact = (path is not None and encoding.format == BatchFileFormat.PARQUET
                     and pq.read_schema(path) == self.layout.schema)
            rows = (self.table.write_file(path, self.layout.schema, keep_source=keep_source)
                    if exact else None)
            if rows is not None:
                self.record_counter_metric.increment(rows)
                continue
            if exact:
                data = pq.read_table(path)
                self.record_counter_metric.increment(data.num_rows)
                for batch in data.combine_chunks().to_batches():
                    self.table.write(batch)
            else:
                super().process_batch_files(encoding, [uri])
            if path is not None and not keep_source:
                path.unlink(missing_ok=True)

    def clean_up(self) -> None:
        """End of input: the stream's staged overwrite is committed (see ``TargetDelta``)."""
        super().clean_up()
        self._target.finish_stream(self)
