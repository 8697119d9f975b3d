"""The one place target-rest-api touches singer-sdk's private names: the per-record and STATE
steps it replaces (records go straight into their batch, STATE waits for acknowledgements),
the per-record checks it defers to the batch, and the SDK's date parsers it validates with.

``tests/test_sdk_private_hooks.py`` checks every name used here against the installed SDK, and
``tests/test_sdk_seam.py`` fails when a private singer-sdk name is used anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from singer_sdk.helpers._compat import (
    date_fromisoformat,
    datetime_fromisoformat,
    time_fromisoformat,
)
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks import Sink

__all__ = ["BatchCheckedSink", "TargetHooks", "date_fromisoformat", "datetime_fromisoformat",
           "get_datelike_property_type", "time_fromisoformat"]


class TargetHooks:
    """First in the target's bases: the SDK's private record, STATE and drain steps handed to
    ``on_*`` methods, and the SDK's own steps (the rest of the class chain) under public names."""

    def _process_record_message(self, message_dict: dict) -> None:
        self.on_record_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        self.on_state_message(message_dict)

    def _write_state_message(self, state: dict) -> None:
        self.on_state_ready(state)

    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        # drain_all, which is final, calls it just before writing STATE.
        self.on_drain_all(sink_list, parallelism)

    def sdk_process_record_message(self, message_dict: dict) -> None:
        """The SDK's record step: stream maps, validation, the sink."""
        super()._process_record_message(message_dict)  # type: ignore[misc]

    def sdk_process_state_message(self, message_dict: dict) -> None:
        """The SDK's STATE step: keeps it as the latest state."""
        super()._process_state_message(message_dict)  # type: ignore[misc]

    def sdk_write_state_message(self, state: dict) -> None:
        """Write a STATE message as the SDK (and the graceful shutdown's lock) does."""
        super()._write_state_message(state)  # type: ignore[misc]

    def sdk_drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        """The SDK's drain of ``sink_list``."""
        super()._drain_all(sink_list, parallelism)  # type: ignore[misc]

    def check_record_age(self) -> None:
        """The SDK's ``batch_wait_limit_seconds`` / max record age drain."""
        self._handle_max_record_age()

    @property
    def active_sinks(self) -> dict[str, Sink]:
        """The SDK's sink for each stream."""
        return self._sinks_active

    @property
    def sinks_to_clear(self) -> list[Sink]:
        """Sinks the SDK replaced, still to be drained."""
        return self._sinks_to_clear

    @property
    def latest_state(self) -> dict | None:
        """The last STATE received."""
        return self._latest_state


class BatchCheckedSink:
    """First in a sink's bases: nothing per record, the batch is checked as a whole."""

    def _validate_and_parse(self, record: dict) -> dict:
        return record

    def _singer_validate_message(self, record: dict) -> None:
        """The key properties are checked with the batch."""
