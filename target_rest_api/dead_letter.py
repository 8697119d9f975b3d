"""The dead-letter file: batches that could not be delivered, as JSON lines, fsynced."""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from target_rest_api.payload import Batch, to_json


class DeadLetterFile:
    """Appends undelivered records, one JSON line each, safely from several sink threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        """Records written, per stream."""

    def append(self, batch: Batch, error: str) -> None:
        """Append every record of ``batch`` with the error, and fsync before returning."""
        failed_at = datetime.now(timezone.utc).isoformat()
        lines = b"".join(
            to_json(
                {
                    "stream": batch.stream,
                    "position": batch.first + offset,
                    "record": record,
                    "error": error,
                    "failed_at": failed_at,
                }
            )
            + b"\n"
            for offset, record in enumerate(batch.records)
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as file:
                file.write(lines)
                file.flush()
                os.fsync(file.fileno())
            self.counts[batch.stream] += len(batch.records)

    def summary(self) -> str:
        """``5 record(s) written to dead.jsonl (orders: 3, users: 2)``."""
        per_stream = ", ".join(f"{stream}: {n}" for stream, n in sorted(self.counts.items()))
        return f"{self.counts.total()} record(s) written to {self.path} ({per_stream})"
