"""The sink: collects one stream's records into batches of ``batch_size`` and delivers them."""

from __future__ import annotations

from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from rest_api_core.sdk_seam import SinkHooks
from target_rest_api.payload import Batch
from target_rest_api.validation import BatchChecks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from target_rest_api.target import TargetRestApi

DEFAULT_BATCH_SIZE = 100


class RestApiSink(SinkHooks, BatchSink):
    """One stream's records, ``batch_size`` per request, through the target's delivery window
    (in arrival order with ``max_in_flight`` 1).

    Records are checked a batch at a time, just before the batch is sent (see
    ``validation``), not one by one as the SDK would: the SDK's per-record checks are
    turned into no-ops here.
    """

    def __init__(
        self,
        target: TargetRestApi,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self._records: list[dict] = []
        self._uncounted = 0  # records come in by ``take``, not yet in the record_count metric
        self.checks = BatchChecks(
            stream_name,
            self.schema,
            self.key_properties,
            validate=self.validate_schema,
            drop_metadata=not self.include_sdc_metadata_properties,
        )
        self.delivery = target.delivery_for(stream_name, self.key_properties)

    @cached_property
    def max_size(self) -> int:
        """Records per request: the ``batch_size`` setting."""
        return int(self.config.get("batch_size") or DEFAULT_BATCH_SIZE)

    def take(self, record: dict) -> bool:
        """The short way in for a record that no stream map or metadata changes (see
        ``TargetRestApi._process_record_message``); True once the batch is full."""
        self._records.append(record)
        self.tally_record_read()
        self._uncounted += 1
        return len(self._records) >= self.max_size

    def process_record(self, record: dict, context: dict) -> None:
        """The SDK's way in: buffer the record (checked with its batch)."""
        self._records.append(record)

    def check_record(self, record: dict) -> None:
        """Nothing per record: ``process_batch`` checks the whole batch."""

    def check_record_keys(self, record: dict) -> None:
        """Nothing per record: ``process_batch`` checks the key properties of the batch."""

    def process_batch(self, context: dict[str, Any]) -> None:
        """Check the buffered records (and those of a BATCH message's file, which the SDK
        hands over whole in ``context``), then hand them ``batch_size`` per request to the
        target's delivery window, which delivers or dead-letters each (split only if the server
        says 413); with ``max_in_flight`` 1 that is done before this returns.
        """
        records, self._records = self._records, []
        records.extend(context.get("records", ()))
        if self._uncounted:
            self.record_counter_metric.increment(self._uncounted)
            self._uncounted = 0
        for start in range(0, len(records), self.max_size):
            chunk = records[start : start + self.max_size]
            first = self._target.claim_positions(self.stream_name, len(chunk))
            self.checks.apply(chunk, first)
            batch = Batch(self.stream_name, first, chunk)
            self._target.deliveries.submit(partial(self.delivery.deliver, batch))
