"""Delivering one stream's batches: POST, split on 413, dead-letter or fail."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import requests

from rest_api_core.errors import ConnectorError
from rest_api_core.http import HttpClient
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetriableStatusError, RetryWaitTooLongError
from target_rest_api.dead_letter import DeadLetterFile
from target_rest_api.payload import Batch, to_json

PAYLOAD_TOO_LARGE = 413

DELIVERY_ERRORS: tuple[type[BaseException], ...] = (
    ConnectorError,
    RetriableStatusError,
    RetryWaitTooLongError,
    requests.RequestException,
    OSError,
)
"""What ``HttpClient.send`` raises when a request fails for good."""

logger = logging.getLogger("target_rest_api.delivery")


class BatchNotDeliveredError(ConnectorError):
    """A batch still failing after its retries, with ``on_failure: fail``."""


def status_of(error: BaseException) -> int | None:
    """The HTTP status behind a delivery error, if there was a response."""
    status = getattr(error, "status", None)
    response = getattr(error, "response", None)
    return status if status is not None else getattr(response, "status_code", None)


@dataclass
class StreamDelivery:
    """Sends one stream's batches to its URL through the target's shared ``HttpClient``."""

    client: HttpClient
    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    wrap_key: str | None = None
    key_properties: Sequence[str] = ()
    dead_letters: DeadLetterFile | None = None

    def deliver(self, batch: Batch) -> None:
        """Send ``batch``; halve it on 413; dead-letter or raise what still fails."""
        try:
            self._send(batch)
        except DELIVERY_ERRORS as error:
            reason = SECRETS.redact(str(error))
            if status_of(error) == PAYLOAD_TOO_LARGE and len(batch.records) > 1:
                logger.warning("%s: HTTP 413, sending it in two halves", batch.span)
                for half in batch.halves():
                    self.deliver(half)
                return
            self._give_up(batch, reason)

    @cached_property
    def _template(self) -> requests.PreparedRequest:
        """Method, URL, headers and auth of every request of the stream, prepared once."""
        headers = {"Content-Type": "application/json", **self.headers}
        return self.client.prepare(requests.Request(self.method, self.url, headers=headers))

    def _send(self, batch: Batch) -> None:
        body = batch.body(self.wrap_key)
        key = {"Idempotency-Key": batch.idempotency_key(body)}
        self.client.send(self.client.with_body(self._template, body, key))

    def _give_up(self, batch: Batch, reason: str) -> None:
        what = batch.span
        if len(batch.records) == 1 and self.key_properties:
            key = {name: batch.records[0].get(name) for name in self.key_properties}
            what += f" (key {SECRETS.redact(to_json(key).decode())})"
        message = f"{what} not delivered: {reason}"
        if self.dead_letters is None:
            raise BatchNotDeliveredError(message)
        self.dead_letters.append(batch, reason)
        logger.error("%s; written to dead-letter file %s", message, self.dead_letters.path)
