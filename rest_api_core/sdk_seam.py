"""The one place the core and the targets touch singer-sdk's private names: the settings check
every plugin replaces with its own, the targets' record, SCHEMA, ACTIVATE_VERSION, STATE and
drain steps, their per-record checks, the graceful shutdown's signal and STATE steps, and the
SDK's batch-file and date helpers.

Each private hook hands over to a public ``on_*`` or ``check_*`` method whose default is the
SDK's own step, so a plugin overrides only what it changes. ``tests/test_sdk_private_hooks.py``
checks every name used here against the installed SDK, and ``tests/test_sdk_seam.py`` fails when
a private singer-sdk name is used anywhere else (the tap has its own seam,
``tap_rest_api/sdk_seam.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import FrameType
from typing import Any

from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchFileFormat
from singer_sdk.helpers._compat import (
    date_fromisoformat,
    datetime_fromisoformat,
    time_fromisoformat,
)
from singer_sdk.helpers._typing import get_datelike_property_type

__all__ = ["BaseBatchFileEncoding", "BatchFileFormat", "ConfigCheckHook", "ShutdownHooks",
           "SinkHooks", "TargetHooks", "date_fromisoformat", "datetime_fromisoformat",
           "get_datelike_property_type", "time_fromisoformat"]


class ConfigCheckHook:
    """Hands the SDK's private settings check to ``check_settings``."""

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return self.check_settings(self._config, raise_errors=raise_errors)

    def check_settings(self, config: dict[str, Any], *, raise_errors: bool) -> list[str]:
        """Every problem of ``config``, raised when ``raise_errors``."""
        raise NotImplementedError


class ShutdownHooks:
    """Hands the SDK's private signal step to ``on_stop_signal``, and writes its STATE messages
    under ``state_output_lock``."""

    state_output_lock: Any

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_stop_signal(signum, frame)

    def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT arrived (the SDK's default exits at once)."""
        raise NotImplementedError

    def _write_state_message(self, state: dict) -> None:
        with self.state_output_lock:
            super()._write_state_message(state)  # type: ignore[misc]


class TargetHooks:
    """First in a target's bases: the SDK's private message steps handed to ``on_*`` methods
    (by default the SDK's own step, ``sdk_*``: the rest of the class chain)."""

    def _process_schema_message(self, message_dict: dict) -> None:
        self.on_schema_message(message_dict)

    def _process_record_message(self, message_dict: dict) -> None:
        self.on_record_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        self.on_state_message(message_dict)

    def _process_activate_version_message(self, message_dict: dict) -> None:
        self.on_activate_version_message(message_dict)

    def _write_state_message(self, state: dict) -> None:
        self.on_state_ready(state)

    def _drain_all(self, sink_list: Iterable[Any], parallelism: int) -> None:
        # drain_all, which is final, calls it just before writing STATE.
        self.on_drain_all(sink_list, parallelism)

    def on_schema_message(self, message_dict: dict) -> None:
        """A SCHEMA message."""
        super()._process_schema_message(message_dict)  # type: ignore[misc]

    def on_record_message(self, message_dict: dict) -> None:
        """A RECORD message."""
        self.sdk_process_record_message(message_dict)

    def on_state_message(self, message_dict: dict) -> None:
        """A STATE message (the SDK keeps it as the latest state)."""
        super()._process_state_message(message_dict)  # type: ignore[misc]

    def on_activate_version_message(self, message_dict: dict) -> None:
        """An ACTIVATE_VERSION message."""
        super()._process_activate_version_message(message_dict)  # type: ignore[misc]

    def on_state_ready(self, state: dict) -> None:
        """A STATE whose records are all written, to pass on."""
        self.sdk_write_state_message(state)

    def on_drain_all(self, sink_list: Iterable[Any], parallelism: int) -> None:
        """Drain ``sink_list``."""
        super()._drain_all(sink_list, parallelism)  # type: ignore[misc]

    def sdk_process_record_message(self, message_dict: dict) -> None:
        """The SDK's record step: stream maps, validation, the sink."""
        super()._process_record_message(message_dict)  # type: ignore[misc]

    def sdk_write_state_message(self, state: dict) -> None:
        """Write a STATE message as the SDK (and the graceful shutdown's lock) does."""
        super()._write_state_message(state)  # type: ignore[misc]

    def check_record_age(self) -> None:
        """The SDK's drain on its max record age (called after each record)."""
        self._handle_max_record_age()

    def require_keys(self, message_dict: dict, keys: set[str]) -> None:
        """The SDK's check that a message line has ``keys``."""
        self._assert_line_requires(message_dict, requires=keys)

    @property
    def active_sinks(self) -> dict[str, Any]:
        """The SDK's sink for each stream."""
        return self._sinks_active

    @property
    def sinks_to_clear(self) -> list[Any]:
        """Sinks the SDK replaced, still to be drained."""
        return self._sinks_to_clear

    @property
    def latest_state(self) -> dict | None:
        """The last STATE received."""
        return self._latest_state


class SinkHooks:
    """First in a sink's bases: the SDK's private per-record checks handed to ``check_record``
    (by default: JSON Schema validation when ``validate_records`` asks; date-times are left as
    strings) and ``check_record_keys`` (by default the SDK's)."""

    def _validate_and_parse(self, record: dict) -> dict:
        self.check_record(record)
        return record

    def _singer_validate_message(self, record: dict) -> None:
        self.check_record_keys(record)

    def check_record(self, record: dict) -> None:
        """Validate ``record`` if the sink validates."""
        if self._validator is not None:
            self._validator.validate(record)

    def check_record_keys(self, record: dict) -> None:
        """The SDK's check of the record's key properties."""
        super()._singer_validate_message(record)  # type: ignore[misc]

    def sdk_context(self, record: dict) -> dict:
        """The SDK's per-record context of this sink."""
        return self._get_context(record)
