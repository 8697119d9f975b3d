"""The sink: collects one stream's records into batches of ``batch_size`` and delivers them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_rest_api.payload import Batch
from target_rest_api.validation import CompiledRecordValidator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from target_rest_api.target import TargetRestApi

DEFAULT_BATCH_SIZE = 100


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
    def _datelike_fields(self) -> frozenset[str]:
        """Fields whose schema is a date, time or date-time string."""
        properties = self.schema["properties"]
        return frozenset(
            name for name in properties if get_datelike_property_type(properties[name])
        )

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: Any) -> None:
        """The SDK's date parsing, given only the fields it acts on (the per-record hot path).

        Those are the date-like fields and the fields without a schema (which it warns about).
        """
        properties = schema["properties"]
        relevant = {
            name: value
            for name, value in record.items()
            if name in self._datelike_fields or name not in properties
        }
        if relevant:
            super()._parse_timestamps_in_record(relevant, schema, treatment)
            record.update(relevant)

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
