"""What one request carries: the JSON body of a batch and its idempotency key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
"""date/date-time values as RFC 3339 strings, decimals as JSON numbers, NaN and infinities as
null (JSON has no NaN)."""


@dataclass(frozen=True)
class Batch:
    """Consecutive records of one stream, at positions ``first``..``last`` of that stream
    (or of one ``part`` of it, such as a Spark partition)."""

    stream: str
    first: int
    records: Sequence[dict[str, Any]]
    part: str = ""

    @property
    def last(self) -> int:
        """Position of the batch's last record in its stream (0-based)."""
        return self.first + len(self.records) - 1

    @property
    def span(self) -> str:
        """``records 100-199 of stream 'orders'``, for messages."""
        where = f"{self.part} of stream" if self.part else "stream"
        return f"records {self.first}-{self.last} of {where} {self.stream!r}"

    def idempotency_key(self, body: bytes) -> str:
        """From stream, positions and body: a rerun of the same input sends the same keys,
        while other records at the same positions (tomorrow's run) never reuse one."""
        scope = f"{self.stream}\n{self.part}" if self.part else self.stream
        digest = hashlib.sha256(f"{scope}\n{self.first}\n{self.last}\n".encode())
        digest.update(body)
        return digest.hexdigest()[:32]

    def halves(self) -> tuple[Batch, Batch]:
        """The batch split in two, each keeping its records' positions."""
        middle = len(self.records) // 2
        return (
            Batch(self.stream, self.first, self.records[:middle], self.part),
            Batch(self.stream, self.first + middle, self.records[middle:], self.part),
        )

    def body(self, wrap_key: str | None = None) -> bytes:
        """The request body: a JSON array of the records, or ``{wrap_key: [...]}``."""
        records = list(self.records)
        return _ENCODER.encode({wrap_key: records} if wrap_key else records)


def to_json(value: Any) -> bytes:
    """Encode a value the way request bodies are encoded."""
    return _ENCODER.encode(value)
