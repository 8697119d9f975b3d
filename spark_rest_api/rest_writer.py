"""The write side of ``rest_api``: each task POSTs its rows as target-rest-api does.

Batches of ``batch_size`` go through target-rest-api's delivery (retries, 413 halving) with
Idempotency-Keys computed from the stream, the partition, the positions and the body: a task
that Spark retries sends the very same keys, so an API that honours them stores each row once.
Up to ``max_in_flight`` batches of a task are in flight at once (target-rest-api's
``DeliveryWindow``): positions, and so keys, are fixed when a batch is cut, whatever order the
answers come back in.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql.datasource import DataSourceArrowWriter, WriterCommitMessage
from pyspark.sql.types import StructType

from rest_api_core.arrow.schema import JSON, column_for
from rest_api_core.config import find_problems, secret_fields
from rest_api_core.errors import ConfigError
from rest_api_core.redact import SECRETS, install_log_redaction
from spark_rest_api.errors import reported_as
from spark_rest_api.types import SINGER_METADATA
from target_rest_api.in_flight import DeliveryWindow
from target_rest_api.payload import Batch
from target_rest_api.sinks import DEFAULT_BATCH_SIZE
from target_rest_api.target import (
    TargetRestApi,
    http_client_for,
    max_in_flight,
    stream_delivery,
)

TARGET = "target-rest-api"
DEFAULT_STREAM = "rows"

logger = logging.getLogger("spark_rest_api.rest_writer")


@dataclass
class DeliveredRows(WriterCommitMessage):
    """What one task delivered."""

    partition: int
    rows: int


def checked_target_settings(config: dict[str, Any]) -> dict[str, Any]:
    """target-rest-api settings, checked by its own schema; secrets registered."""
    schema = copy.deepcopy(TargetRestApi.config_jsonschema)
    TargetRestApi.append_builtin_config(schema)
    SECRETS.add(*(value for _, value in secret_fields(config, schema)))
    problems = find_problems(config, schema)
    if problems:
        raise ConfigError("option 'config': " + "; ".join(map(str, problems)))
    if config.get("on_failure") == "dead_letter":
        raise ConfigError("option 'config': on_failure: dead_letter is not available on Spark "
                          "(executors share no dead-letter file); a failed batch fails its task")
    return config


def _json_text_columns(schema: StructType) -> frozenset[str]:
    """Columns holding objects as JSON text (sent as objects again)."""
    return frozenset(
        field.name for field in schema.fields
        if SINGER_METADATA in field.metadata
        and column_for(json.loads(field.metadata[SINGER_METADATA])).kind == JSON
    )


def _no_state(state: dict) -> None:
    """A task has no STATE to pass on: Spark's job commit is its acknowledgement."""


class RestApiWriter(DataSourceArrowWriter):
    """POSTs the rows of each partition in batches of ``batch_size``."""

    def __init__(self, config: dict[str, Any], stream: str | None, schema: StructType) -> None:
        self.config = checked_target_settings(config)
        if stream is None and "{stream}" in config["url"]:
            raise ConfigError("option 'stream': required, the url contains {stream}")
        self.stream = stream or DEFAULT_STREAM
        self.batch_size = int(config.get("batch_size") or DEFAULT_BATCH_SIZE)
        self.json_columns = _json_text_columns(schema)

    def _records(self, batch: pa.RecordBatch) -> list[dict[str, Any]]:
        records = batch.to_pylist()
        for record in records:
            for name in self.json_columns:
                if record.get(name) is not None:
                    record[name] = json.loads(record[name])
        return records

    def write(self, iterator: Iterator[pa.RecordBatch]) -> DeliveredRows:  # type: ignore[override]
        """Deliver this task's rows; positions count from 0 in each partition."""
        install_log_redaction()
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        part = f"partition {partition}"
        with reported_as(f"writing stream {self.stream!r}, {part}"):
            config = checked_target_settings(self.config)  # registers the secrets here
            delivery = stream_delivery(config, http_client_for(config), self.stream)
            window = DeliveryWindow(max_in_flight(config), write_state=_no_state)
            pending: list[dict[str, Any]] = []
            sent = 0
            for batch in iterator:
                pending.extend(self._records(batch))
                while len(pending) >= self.batch_size:
                    chunk, pending = pending[: self.batch_size], pending[self.batch_size :]
                    window.submit(partial(delivery.deliver, Batch(self.stream, sent, chunk, part)))
                    sent += len(chunk)
            if pending:
                window.submit(partial(delivery.deliver, Batch(self.stream, sent, pending, part)))
                sent += len(pending)
            window.wait()  # every batch acknowledged, or the first failure raised
        return DeliveredRows(partition, sent)

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:  # type: ignore[override]
        """Every task delivered: log the count."""
        rows = sum(m.rows for m in messages if isinstance(m, DeliveredRows))
        logger.info("Stream '%s': %d rows delivered by %d tasks", self.stream, rows,
                    len(messages))
