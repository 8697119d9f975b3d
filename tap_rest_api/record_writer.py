"""RECORD lines, each written with its bookmark advanced in the same locked step, so a STATE
written meanwhile by another thread (or the final one of a stopped run) covers exactly the
records out."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from rest_api_core.stream_maps import passes_unchanged
from tap_rest_api.sdk_seam import (
    advance_bookmark,
    pop_deselected_record_properties,
    stream_version,
    tap_of,
    write_record_the_sdk_way,
)

if TYPE_CHECKING:
    from tap_rest_api.streams import RestApiStream


class RecordWriter:
    """One stream's records on their way out: the SDK's per-record steps, without the costs a
    stream that passes records unchanged does not need."""

    def __init__(self, stream: RestApiStream) -> None:
        self.stream = stream
        self.bookmarks_with_lines = True
        """Each record's bookmark advances with its RECORD line (False while records go to
        batch files: no line, so the SDK's bookmark step after each record does it)."""
        self._output = tap_of(stream).message_writer
        self._context: dict | None = None
        self._incremental = False
        self._advance = partial(advance_bookmark, stream)
        self._unchanged: bool | None = None
        self._deselection: bool | None = None
        link = stream.settings.parent_link
        # The SDK copies an incremental child's partition (its placeholder values) into each
        # record; only ``include_from_parent`` fields belong there.
        self._context_only_fields = () if link is None else tuple(
            name for name in stream.state_partitioning_keys or ()
            if name not in link.included_fields)

    def start(self, context: dict | None) -> None:
        """A sync of ``context`` begins (what the SDK bookmarks its records under)."""
        self._context = context
        self._incremental = self.stream.replication_method == REPLICATION_INCREMENTAL
        keeper = self.stream.bookmarks  # a bookmark the tap keeps itself, or the SDK's step
        self._advance = keeper.note if keeper is not None else partial(advance_bookmark,
                                                                         self.stream)

    def write(self, record: dict[str, Any]) -> None:
        """The record's RECORD line and its bookmark, under the output lock. When the stream
        maps pass records unchanged (the common case), the line is encoded straight from the
        record (``BufferedMsgSpecWriter.write_record``: the SDK's bytes, no message object)."""
        stream = self.stream
        with self._output.lock:
            if self.passes_unchanged():
                self.trim(record)
                self._output.write_record(
                    stream.name, record, stream_version(stream), stream.reader.last_received_at)
                stream.state_manager.is_flushed = False  # as the SDK's step: a STATE is due
            else:
                write_record_the_sdk_way(stream, record)
            if self._incremental:
                self._advance(record, self._context)

    def after_record(self, record: dict[str, Any], context: dict | None) -> None:
        """The SDK's bookmark step after each record: already done by ``write`` when records
        go out as lines."""
        if self._incremental and not self.bookmarks_with_lines:
            with self._output.lock:
                self._advance(record, context)

    def messages(self, record: dict[str, Any]) -> Iterator[RecordMessage]:
        """The record through the stream maps: ``trim`` instead of the SDK's conformance pass,
        ``time_extracted`` the time its page was received."""
        self.trim(record)
        stream = self.stream
        extracted_at = stream.reader.last_received_at
        for stream_map in stream.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(stream=stream_map.stream_alias, record=mapped,
                                    version=stream_version(stream), time_extracted=extracted_at)

    def trim(self, record: dict[str, Any]) -> None:
        """Records already match the SCHEMA (``DeclaredRecords``/``InferredSchema``); only
        fields the SDK added and properties the catalog deselects are removed."""
        if self._context_only_fields:  # (none for most streams: no per-record schema look-up)
            properties = self.stream.schema["properties"]
            for name in self._context_only_fields:
                if name not in properties:
                    record.pop(name, None)
        if self.deselects_properties():
            pop_deselected_record_properties(record, self.stream.schema, self.stream.mask)

    def passes_unchanged(self) -> bool:
        """No stream map alters the stream's records."""
        if self._unchanged is None:
            self._unchanged = passes_unchanged(self.stream.stream_maps, self.stream.name)
        return self._unchanged

    def deselects_properties(self) -> bool:
        """The catalog deselects some of the stream's properties."""
        if self._deselection is None:
            self._deselection = any(not selected for crumb, selected
                                    in self.stream.mask.items() if crumb)
        return self._deselection

    def forget_mapping(self) -> None:
        """The schema changed: stream maps and selection are derived again on next use."""
        self._unchanged = None
        self._deselection = None
