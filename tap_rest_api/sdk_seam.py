"""The one place tap-rest-api touches singer-sdk's private names.

singer-sdk has no public hook for what this tap changes at every sync and every record: the
completion marks of streams read once per parent record, the RECORD fast path with its bookmark
in one locked step, STATE that covers exactly what is out (batch files, streams side by side).
Each private hook here hands over to the collaborator that owns the concern; everything else
the stream does goes through the SDK's public API.

``tests/test_sdk_private_hooks.py`` checks every name used here against the installed SDK, and
``tests/test_sdk_seam.py`` fails when a private singer-sdk name is used anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk import Tap
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, BatchFileFormat
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

if TYPE_CHECKING:
    from singer_sdk.singerlib import RecordMessage

    from tap_rest_api.completion import CompletionMarks
    from tap_rest_api.record_writer import RecordWriter

__all__ = [
    "BaseBatchFileEncoding", "BatchConfig", "BatchFileFormat", "SeamStream", "SeamTap",
    "pop_deselected_record_properties",
]

LOCKED_STATE_METHODS = (
    "_finalize_state", "_write_starting_replication_value", "_write_replication_key_signpost",
    "get_context_state", "get_starting_replication_key_value", "stream_state",
)
"""SDK state methods ``SeamStream`` runs under the tap's output lock as they are."""
LOCKED_BY_THEIR_OWNER = (
    "_write_record_message", "_increment_stream_state", "_write_state_message",
    "finalize_state_progress_markers", "_write_batch_message",
)
"""SDK state methods that the code replacing or calling them runs under the output lock."""
UNLOCKED_STATE_METHODS = {
    "__init__": "runs before any thread starts",
    "state_manager": "builds the manager once, reads no state",
    "tap_state": "hands out the reference",
    "partitions": "reads only the stream's own part, which only its own thread writes",
    "_get_state_partition_context": "computes the partition's keys, reads no state",
    "_sync_records": "reaches the state only through the methods above",
    "_abort_sync": "reaches the state only through _write_state_message",
}
"""Every other SDK method that reaches the state, and why it needs no lock."""


def _under_output_lock(method: Callable) -> Callable:
    """``method`` run while holding the tap's output lock (``BufferedMsgSpecWriter.lock``)."""

    @wraps(method)
    def locked(self: RESTStream, *args: Any, **kwargs: Any) -> Any:
        with self._tap.message_writer.lock:
            return method(self, *args, **kwargs)

    locked.under_output_lock = True
    return locked


class SeamStream(RESTStream):
    """``RESTStream`` with its private per-sync and per-record hooks handed to collaborators
    (``record_writer``, ``marks``), which the subclass sets."""

    record_writer: RecordWriter
    marks: CompletionMarks

    def _write_record_message(self, record: dict[str, Any]) -> None:
        self.record_writer.write(record)

    def _increment_stream_state(self, latest_record: dict[str, Any], *,
                                context: dict | None = None) -> None:
        self.record_writer.after_record(latest_record, context)

    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[RecordMessage]:
        return self.record_writer.messages(record)

    def _process_record(self, record: dict[str, Any], child_context: dict | None = None,
                        partition_context: dict | None = None) -> None:
        """The SDK's step that copies the state partition's keys into the record and syncs the
        children: nothing to do, per record, for a stream with neither (the common case)."""
        if self.child_streams or partition_context:
            super()._process_record(record, child_context=child_context,
                                    partition_context=partition_context)

    def _write_activate_version_message(self, full_table_version: int) -> None:
        self.marks.open(full_table_version)

    def _write_schema_message(self) -> None:
        self.marks.schema_when_changed()

    def _write_state_message(self) -> None:
        self.marks.state()

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """At the end of the run, with the STATE that follows always written."""
        self.marks.finalizing = True
        with self._tap.message_writer.lock:
            super().finalize_state_progress_markers(state)

    # Streams synced side by side share one state document (the SDK's tap state): each changes
    # its own part under the output lock, so no STATE written by another thread serializes a
    # half-updated bookmark (or a dict changing size mid-copy).
    _finalize_state = _under_output_lock(RESTStream._finalize_state)
    _write_starting_replication_value = _under_output_lock(
        RESTStream._write_starting_replication_value)
    _write_replication_key_signpost = _under_output_lock(
        RESTStream._write_replication_key_signpost)
    get_context_state = _under_output_lock(RESTStream.get_context_state)
    get_starting_replication_key_value = _under_output_lock(
        RESTStream.get_starting_replication_key_value)
    stream_state = property(_under_output_lock(RESTStream.stream_state.fget))


# -- SDK steps the collaborators call as they are -------------------------------------------

def write_record_the_sdk_way(stream: RESTStream, record: dict[str, Any]) -> None:
    """The SDK's RECORD step through stream maps."""
    RESTStream._write_record_message(stream, record)


def advance_bookmark(stream: RESTStream, record: dict[str, Any], context: dict | None) -> None:
    """The SDK's bookmark step for one record (caller holds the output lock)."""
    RESTStream._increment_stream_state(stream, record, context=context)


def start_bookmark(stream: RESTStream, context: dict | None) -> Any:
    """The bookmark a sync for ``context`` starts from, recorded first as that sync records it
    (the SDK's ``_sync_records`` does it before its first request)."""
    stream._write_starting_replication_value(context)
    return stream.get_starting_replication_key_value(context)


def write_activate_version(stream: RESTStream, version: int) -> None:
    """An ACTIVATE_VERSION message, as the SDK writes it."""
    RESTStream._write_activate_version_message(stream, version)


def write_schema(stream: RESTStream) -> None:
    """A SCHEMA message, as the SDK writes it."""
    RESTStream._write_schema_message(stream)


def write_batch_message(stream: RESTStream, encoding: BaseBatchFileEncoding,
                        manifest: list[str]) -> None:
    """A BATCH message announcing ``manifest``."""
    stream._write_batch_message(encoding, manifest)


def sync_records(stream: RESTStream, context: dict | None, *, write_messages: bool
                 ) -> Iterator[dict[str, Any]]:
    """The SDK's record loop (bookmarks, children, counters), with or without RECORD lines."""
    return stream._sync_records(context, write_messages=write_messages)


def log_request_duration(stream: RESTStream, prepared: requests.PreparedRequest,
                         response: requests.Response, context: dict | None) -> None:
    """The SDK's request metric, as its own request step logs it (the pipeline counts pages
    by it)."""
    stream._write_request_duration_log(
        endpoint=stream.path, response=response, context=context,
        extra_tags={"url": prepared.path_url} if stream._LOG_REQUEST_METRIC_URLS else None)


# -- SDK attributes ---------------------------------------------------------------------------

def tap_of(stream: RESTStream) -> Tap:
    """The tap that owns ``stream``."""
    return stream._tap


def stream_version(stream: RESTStream) -> int | None:
    """The version the SDK writes the stream's records with (None before its first sync)."""
    return stream._stream_version


def start_version(stream: RESTStream) -> int:
    """Give a stream that never synced the version its ``sync`` would have given it."""
    stream._stream_version = stream._initialized_at // 1000
    return stream._stream_version


def held_schema(stream: RESTStream) -> dict[str, Any] | None:
    """The schema the stream holds (None until declared, given or inferred)."""
    return stream._schema


def catalog_schema(stream: RESTStream) -> dict[str, Any] | None:
    """The schema an input catalog gave the stream, if any."""
    return stream._input_schema


def hold_schema(stream: RESTStream, schema: dict[str, Any]) -> None:
    """Make ``schema`` the stream's schema (the SDK has no setter)."""
    stream._schema = schema


def forget_mapping(stream: RESTStream) -> None:
    """Drop what the SDK derived from the old schema: stream maps and, without an input
    catalog, metadata and selection mask (built again on next use)."""
    stream._stream_maps = None
    if stream._tap.input_catalog is None:
        stream._metadata = None
        stream._mask = None


def use_session(stream: RESTStream, session: requests.Session) -> None:
    """Send the SDK's own requests through ``session``."""
    stream._requests_session = session


def count_page(paginator: BaseAPIPaginator) -> None:
    """One more page read (``paginator.count``)."""
    paginator._page_count += 1


def finish(paginator: BaseAPIPaginator) -> None:
    """No page after this one (``paginator.finished``)."""
    paginator._finished = True


def move_to(paginator: BaseAPIPaginator, value: Any) -> None:
    """The next page's token (``paginator.current_value``)."""
    paginator._value = value


class SeamTap(Tap):
    """``Tap`` with its private signal hooks and sync preparation under public names."""

    handles_signals = True
    """False where the host process owns the signals (Spark's Python workers)."""

    def _setup_signal_handlers(self) -> None:
        if self.handles_signals:
            super()._setup_signal_handlers()

    def _handle_termination(self, signum: int, frame: object) -> None:
        self.on_stop_signal(signum)

    def on_stop_signal(self, signum: int) -> None:
        """SIGTERM or SIGINT arrived (the SDK's default exits at once)."""
        raise NotImplementedError

    def prepare_sync(self) -> None:
        """What the SDK's ``sync_all`` does before its first stream."""
        self._reset_state_progress_markers()
        self._set_compatible_replication_methods()
