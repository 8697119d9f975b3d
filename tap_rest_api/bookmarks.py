"""The bookmark the tap keeps itself where the SDK's per-record step cannot: windows (the
bookmark moves only when a window completes), client-side filtering and a stated order (the
largest value seen, not the last), and a replication key nested in the record (a dot path).

Values are compared as instants (RFC 3339 text, unix seconds or milliseconds), never as text.
The bookmark goes into the stream's state (the same ``replication_key_value`` the SDK reads
back as the next run's start) and a STATE follows only once the records it covers are out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rest_api_core.dot_paths import dig
from tap_rest_api.instants import format_instant, parse_instant
from tap_rest_api.sdk_seam import tap_of

if TYPE_CHECKING:
    from tap_rest_api.incremental import Incremental
    from tap_rest_api.streams import RestApiStream
    from tap_rest_api.windows import Window


class BookmarkKeeper:
    """One stream's own bookmark, per sync context (a child's: per parent)."""

    def __init__(self, stream: RestApiStream, settings: Incremental) -> None:
        self.stream = stream
        self.settings = settings
        self._largest: tuple[datetime, Any] | None = None
        """The largest replication value written in this sync: as an instant, and as read."""
        self._unparsed_warned = False

    def start(self, context: dict | None) -> datetime | None:
        """A sync (of one context) begins: nothing newer than its starting bookmark (state,
        else ``start_value``) seen yet. Returns that bookmark as an instant."""
        start = self.stream.get_starting_replication_key_value(context)
        if start is None:
            start = self.settings.start_value
        moment = parse_instant(start, self.settings.unit)
        self._largest = None if moment is None else (moment, start)
        return moment

    def value_of(self, record: dict[str, Any]) -> tuple[datetime | None, Any]:
        """The record's replication value, as an instant (None if it is not one) and as
        read."""
        raw = dig(record, self.settings.replication_key)
        moment = parse_instant(raw, self.settings.unit)
        if moment is None and raw is not None and not self._unparsed_warned:
            self._unparsed_warned = True
            self.stream.logger.warning(
                "Stream '%s': incremental.replication_key '%s' holds %r, which is not a "
                "timestamp (RFC 3339) nor unix seconds or milliseconds: such records do not "
                "move the bookmark", self.stream.name, self.settings.replication_key, raw)
        return moment, raw

    def note(self, record: dict[str, Any], context: dict | None) -> None:
        """A record is out (caller holds the output lock): remember its value; an ascending
        stream without windows moves the bookmark at once."""
        moment, raw = self.value_of(record)
        if moment is None or (self._largest is not None and moment <= self._largest[0]):
            return
        self._largest = (moment, raw)
        if self.settings.ascending and self.settings.window is None:
            self._set(raw, context)

    def window_done(self, window: Window, context: dict | None) -> None:
        """Every record of ``window`` is out: the bookmark is its end (or the largest value
        seen, if larger), then STATE."""
        moment = window.end
        if self._largest is not None and self._largest[0] > moment:
            moment = self._largest[0]
        with tap_of(self.stream).message_writer.lock:
            self._set(format_instant(moment, "iso8601"), context)
        self.stream.marks.state()

    def complete(self, context: dict | None) -> None:
        """The sync read everything: the bookmark is the largest value seen (it stays where
        it was when nothing newer came)."""
        if self.settings.window is None and self._largest is not None:
            with tap_of(self.stream).message_writer.lock:
                self._set(self._largest[1], context)

    def _set(self, value: Any, context: dict | None) -> None:
        state = self.stream.get_context_state(context)
        state.pop("progress_markers", None)
        state["replication_key"] = self.settings.replication_key
        state["replication_key_value"] = value
        self.stream.state_manager.is_flushed = False
