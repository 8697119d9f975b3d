"""BATCH messages (the SDK's ``batch_config``): Parquet files in a local folder that carry the
exact Arrow schema of the SCHEMA (``ParquetBatchFiles``) whenever records reach the target
unchanged; the SDK's own files otherwise. A file is announced only once complete, and the
stream's completion mark follows the last one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from singer_sdk.streams import RESTStream

from rest_api_core.local_files import local_path
from tap_rest_api.sdk_seam import (
    BaseBatchFileEncoding,
    BatchConfig,
    BatchFileFormat,
    sync_records,
    tap_of,
    write_batch_message,
)

if TYPE_CHECKING:
    from tap_rest_api.batch_files import ParquetBatchFiles
    from tap_rest_api.streams import RestApiStream

Batch = tuple[BaseBatchFileEncoding, list[str]]


class BatchPath:
    """One stream's batch files, and the bookmark as of the last one announced."""

    def __init__(self, stream: RestApiStream) -> None:
        self.stream = stream
        self.active = False
        """The stream's records go to batch files (its completion mark follows the last)."""
        self.announced_bookmark: dict | None = None
        """While batch files are written: the stream's bookmark as of its last announced file
        (its live bookmark already covers records of the file being written)."""
        self._open: tuple[ParquetBatchFiles, BaseBatchFileEncoding] | None = None

    def batches(self, batch_config: BatchConfig, context: dict | None) -> Iterator[Batch]:
        """Each complete file, announced with the bookmark that covers it; then the mark."""
        stream = self.stream
        lock = tap_of(stream).message_writer.lock
        self.active = True
        stream.record_writer.bookmarks_with_lines = False
        try:
            with lock:
                self.announced_bookmark = copy.deepcopy(stream.stream_state)
            for encoding, manifest in self._written(batch_config, context):
                with lock:  # held while the SDK writes BATCH, then STATE
                    self.announced_bookmark = copy.deepcopy(stream.stream_state)
                    yield encoding, manifest
        finally:
            stream.record_writer.bookmarks_with_lines = True
        self.announced_bookmark = None
        stream.marks.complete()

    def schema_changed(self, schema: dict[str, Any]) -> None:
        """The rows so far keep the schema they were read with: the open file is announced."""
        if self._open is None:
            return
        files, encoding = self._open
        if done := files.change_schema(schema):
            with tap_of(self.stream).message_writer.lock:
                write_batch_message(self.stream, encoding, [done])
                self.announced_bookmark = copy.deepcopy(self.stream.stream_state)

    def _written(self, batch_config: BatchConfig, context: dict | None) -> Iterator[Batch]:
        stream = self.stream
        directory = local_path(batch_config.storage.root)
        writer = stream.record_writer
        if (batch_config.encoding.format != BatchFileFormat.PARQUET or directory is None
                or writer.deselects_properties() or not writer.passes_unchanged()):
            yield from RESTStream.get_batches(stream, batch_config, context)
            return
        # pyarrow is imported only here: RECORD-message runs start without it.
        from tap_rest_api.batch_files import ParquetBatchFiles

        files = ParquetBatchFiles(directory, batch_config.storage.prefix or "", stream.name,
                                  stream.schema, batch_config.batch_size)
        self._open = (files, batch_config.encoding)
        try:
            for record in sync_records(stream, context, write_messages=False):
                if done := files.add(record):
                    yield batch_config.encoding, [done]
            if done := files.close():
                yield batch_config.encoding, [done]
        except BaseException:
            files.discard()
            raise
        finally:
            self._open = None
