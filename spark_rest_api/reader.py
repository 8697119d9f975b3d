"""The read side: partitions planned on the driver, records read and typed on the executors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceReader
from pyspark.sql.types import StructType

from rest_api_core.arrow.convert import record_batch
from rest_api_core.redact import install_log_redaction
from spark_rest_api.children import child_records, lineage
from spark_rest_api.conform import UNKNOWN_FIELDS, Conformer
from spark_rest_api.errors import reported_as
from spark_rest_api.partitions import ParentSlice, StreamPartition, WindowSlice, plan
from spark_rest_api.streams import open_stream
from spark_rest_api.types import layout_of, singer_schema_of
from tap_rest_api.streams import RestApiStream

ROWS_PER_BATCH = 2000
"""Rows per Arrow batch handed to Spark: a few pages' worth, small enough to stay light."""


def records_of(stream: RestApiStream, partition: StreamPartition, schema: dict[str, Any],
               unknown_fields: str = UNKNOWN_FIELDS[0]) -> Iterator[dict[str, Any]]:
    """The partition's records, held to the schema as the tap holds them: a page range or the
    whole stream, a run of time windows, or a child's records for each parent of a slice."""
    if isinstance(partition, WindowSlice):
        records = (record for window in partition.windows
                   for record in stream.windows.read(window, None))
        return Conformer(stream, schema["properties"])(records)
    if not isinstance(partition, ParentSlice):
        stream.page_window = partition.window
        return Conformer(stream, schema["properties"], unknown_fields)(
            stream.request_records(None))
    chain = lineage(stream)
    conformers = {s.name: Conformer(s, schema["properties"], unknown_fields) if s is stream
                  else Conformer(s) for s in chain}
    return child_records(chain, partition.parents, conformers)


def batches(records: Iterable[dict[str, Any]], schema: StructType) -> Iterator[pa.RecordBatch]:
    """Arrow batches of the Spark schema, converted as target-delta converts records."""
    layout = layout_of(schema)
    iterator = iter(records)
    while chunk := list(islice(iterator, ROWS_PER_BATCH)):
        yield record_batch(chunk, layout)


class RestApiReader(DataSourceReader):
    """Reads one stream of tap settings, split as ``partitions.plan`` decides."""

    def __init__(self, config: dict[str, Any], stream: str, schema: StructType,
                 wanted: int, parallelism: int, state: dict[str, Any] | None = None,
                 unknown_fields: str = UNKNOWN_FIELDS[0]) -> None:
        self.config = config
        self.unknown_fields = unknown_fields
        self.state = state
        """The pipeline's Singer state (``rest-connector run --engine spark``)."""
        self.stream = stream
        self.schema = schema
        self.wanted = wanted
        self.parallelism = parallelism

    def partitions(self) -> list[StreamPartition]:  # type: ignore[override]
        """Planned once, on the driver (a first page is read for offset/page + total)."""
        install_log_redaction()
        with reported_as(f"planning the partitions of stream {self.stream!r}"):
            stream = open_stream(self.config, self.stream,
                                 schema=singer_schema_of(self.schema), state=self.state)
            return plan(stream, self.wanted, self.parallelism)

    def read(self, partition: StreamPartition) -> Iterator[pa.RecordBatch]:  # type: ignore[override]
        """The partition's records, through the tap's own HTTP, paging and record code."""
        install_log_redaction()
        with reported_as(f"stream {self.stream!r}, partition {partition.index}"):
            schema = singer_schema_of(self.schema)
            stream = open_stream(
                self.config, self.stream, schema=schema, alone=True,
                requests_per_second=partition.requests_per_second,
                ancestor_rates=dict(partition.ancestor_rates), state=self.state)
            yield from batches(records_of(stream, partition, schema, self.unknown_fields),
                               self.schema)
