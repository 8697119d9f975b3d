"""What a stream writes once per run where the SDK writes it at every sync (for a child
stream: once per parent record): ACTIVATE_VERSION around a full-table read, SCHEMA when it
changed, and STATE as far as the output goes."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tap_rest_api.sdk_seam import (
    start_version,
    stream_version,
    tap_of,
    write_activate_version,
    write_schema,
)

if TYPE_CHECKING:
    from tap_rest_api.streams import RestApiStream


class CompletionMarks:
    """One stream's marks.

    The SDK writes the opening ACTIVATE_VERSION (before the records) but no closing one. The
    closing one is what tells a target the read completed: a table replacement is committed on
    it, so a tap that fails midway (no closing mark) replaces nothing.
    """

    def __init__(self, stream: RestApiStream) -> None:
        self.stream = stream
        self.finalizing = False
        """The run's end: a child stream's STATE is written now (before, its root's carry it)."""
        self._opened = False
        self._written_schema: dict[str, Any] | None = None

    def emitting(self) -> bool:
        """ACTIVATE_VERSION unless the settings turn it off (the SDK's default is off).

        Off for a child of an incremental stream (at any level): it is read only for the parent
        records of this run, so its read is never the whole table.
        """
        parent = self.stream.parent_stream
        while parent is not None:
            if parent.replication_method != REPLICATION_FULL_TABLE:
                return False
            parent = parent.parent_stream
        return bool(self.stream.config.get("emit_activate_version_messages", True))

    def open(self, version: int) -> None:
        """The opening mark, once per run."""
        if not self._opened:
            self._opened = True
            write_activate_version(self.stream, version)

    def schema_when_changed(self) -> None:
        """SCHEMA, when it differs from the one written last."""
        schema = self.stream.schema
        if self._written_schema != schema:
            self._written_schema = copy.deepcopy(schema)
            write_schema(self.stream)

    def state(self) -> None:
        """STATE; a child stream writes its own only at the end of the run.

        Each STATE would carry every parent's bookmark, once per parent record: the output
        would grow with the square of the parents. Meanwhile the root's STATE messages carry
        the children's bookmarks (the tap's state is one document), written once every child
        record before them is out.
        """
        stream = self.stream
        if stream.parent_stream is not None and not self.finalizing:
            return
        tap = tap_of(stream)
        with tap.message_writer.lock:
            if not stream.state_manager.is_flushed:
                _ = stream.stream_state  # as the SDK's: the stream's entry exists
                tap.state_writer.write_state(tap.published_state())
                stream.state_manager.is_flushed = True

    def complete(self) -> None:
        """After the last record of a full-table stream, ACTIVATE_VERSION again; then the same
        for its descendants, read once per parent record, which complete with it."""
        root = self.stream
        for stream in (root, *root.descendent_streams):
            if (
                stream.selected
                and stream.replication_method == REPLICATION_FULL_TABLE
                and stream.emit_activate_version_messages
                and (stream_version(stream) is not None or stream is not root)
            ):
                stream.marks.close()

    def close(self) -> None:
        """The closing mark; a child without parent records this run completes empty."""
        stream = self.stream
        version = stream_version(stream)
        if version is None:
            self.schema_when_changed()
            version = start_version(stream)
            self.open(version)
        write_activate_version(stream, version)
