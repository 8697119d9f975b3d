"""The most requests a plugin run keeps in flight at once, and each stream's share of it."""

from __future__ import annotations

import threading
from types import TracebackType


class InFlightCap:
    """Request slots for one plugin run: ``total`` at once across every stream and thread (None:
    no run-wide cap), each stream at most its own ``share``.

    Owned by the plugin instance (like ``HostLimiters``), never a module global, so two runs in
    one process never take each other's slots.
    """

    def __init__(self, total: int | None) -> None:
        self._total = threading.Semaphore(total) if total else None
        self._lock = threading.Lock()
        self._slots: dict[str, StreamSlot] = {}

    def for_stream(self, name: str, share: int) -> StreamSlot:
        """The slot a request of stream ``name`` holds while it is sent (one per stream)."""
        with self._lock:
            if name not in self._slots:
                self._slots[name] = StreamSlot(threading.Semaphore(share), self._total)
            return self._slots[name]


class StreamSlot:
    """Held around each try of one stream's requests: a place in the stream's share, then one
    in the run's total (released in the reverse order, also when a stop signal interrupts)."""

    def __init__(self, share: threading.Semaphore, total: threading.Semaphore | None) -> None:
        self._share = share
        self._total = total

    def __enter__(self) -> None:
        self._share.acquire()
        if self._total is not None:
            try:
                self._total.acquire()
            except BaseException:
                self._share.release()
                raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._total is not None:
            self._total.release()
        self._share.release()
