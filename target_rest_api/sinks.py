"""The sink: collects one stream's records into batches of ``batch_size`` and delivers them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from target_rest_api.payload import Batch

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

    @property
    def max_size(self) -> int:
        """Records per request: the ``batch_size`` setting."""
        return int(self.config.get("batch_size") or DEFAULT_BATCH_SIZE)

    def process_batch(self, context: dict[str, Any]) -> None:
        """Deliver the buffered records as one request (split only if the server says 413)."""
        records = context.get("records") or []
        if not records:
            return
        first = self._target.claim_positions(self.stream_name, len(records))
        self.delivery.deliver(Batch(self.stream_name, first, records))
