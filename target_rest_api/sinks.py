"""The sink: collects one stream's records into batches of ``batch_size`` and delivers them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._compat import (
    date_fromisoformat,
    datetime_fromisoformat,
    time_fromisoformat,
)
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_rest_api.payload import Batch
from target_rest_api.validation import CompiledRecordValidator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from target_rest_api.target import TargetRestApi

DEFAULT_BATCH_SIZE = 100

_SDC_FIELDS = frozenset((
    "_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
    "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at",
))
"""The record metadata columns the SDK removes when ``add_record_metadata`` is off."""


class RestApiSink(BatchSink):
    """One stream's records, sent in arrival order, ``batch_size`` per request."""

    def __init__(
        self,
        target: TargetRestApi,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self.delivery = target.delivery_for(stream_name, self.key_properties)

    @cached_property
    def max_size(self) -> int:
        """Records per request: the ``batch_size`` setting."""
        return int(self.config.get("batch_size") or DEFAULT_BATCH_SIZE)

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Validate records with the schema compiled once (see ``validation``)."""
        return CompiledRecordValidator(self.schema) if self.validate_schema else None

    @cached_property
    def include_sdc_metadata_properties(self) -> bool:
        """The ``add_record_metadata`` setting, read once (the SDK asks for every record)."""
        return bool(self.config.get("add_record_metadata", False))

    @cached_property
    def _date_parsers(self) -> tuple[tuple[str, Callable[[str], Any]], ...]:
        """Each date, time or date-time field with the SDK's parser for its format."""
        parsers = {"date": date_fromisoformat, "time": time_fromisoformat}
        properties = self.schema["properties"]
        return tuple(
            (name, parsers.get(kind, datetime_fromisoformat))
            for name, kind in (
                (name, get_datelike_property_type(properties[name])) for name in properties
            )
            if kind
        )

    @cached_property
    def _schema_fields(self) -> frozenset[str]:
        """The fields the schema declares."""
        return frozenset(self.schema["properties"])

    def _remove_sdc_metadata_from_record(self, record: dict) -> None:
        """As the SDK's, which pops seven keys from every record: look before popping."""
        # Private SDK hook, overridden only because it runs for every record.
        if not _SDC_FIELDS.isdisjoint(record):
            super()._remove_sdc_metadata_from_record(record)

    def _singer_validate_message(self, record: dict) -> None:
        """As the SDK's: every key property must be in the record (one set test when so)."""
        # Private SDK hook, overridden only because it runs for every record.
        if not self._key_fields.issubset(record):
            super()._singer_validate_message(record)

    @cached_property
    def _key_fields(self) -> frozenset[str]:
        """The stream's key properties."""
        return frozenset(self.key_properties or ())

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: Any) -> None:
        """As the SDK's: date-like strings to date/time objects, which ``payload`` encodes as
        RFC 3339 strings. A value that does not parse, or a field without a schema (which
        the SDK warns about), goes through the SDK's own handling."""
        # Private SDK hook on the per-record hot path: its generic loop costs more than posting.
        if schema is not self.schema or not self._schema_fields.issuperset(record):
            super()._parse_timestamps_in_record(record, schema, treatment)
            return
        for name, parse in self._date_parsers:
            value = record.get(name)
            if value is None:
                continue
            try:
                record[name] = parse(value)
            except ValueError:
                invalid = {name: value}
                super()._parse_timestamps_in_record(invalid, schema, treatment)
                record[name] = invalid[name]

    def process_batch(self, context: dict[str, Any]) -> None:
        """Hand the buffered records over as one request (split only if the server says 413)."""
        records = context.get("records") or []
        if not records:
            return
        first = self._target.claim_positions(self.stream_name, len(records))
        batch = Batch(self.stream_name, first, records)
        self._target.sender.submit(lambda: self.delivery.deliver(batch))

    def clean_up(self) -> None:
        """At the end of input: wait until every batch handed over is delivered."""
        self._target.sender.flush()
        super().clean_up()
