"""A thread-safe request-rate limiter shared by every client calling the same host."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Spaces request starts at least ``1 / requests_per_second`` apart: no bursts.

    With that spacing no one-second window ever holds more than ``requests_per_second``
    request starts. ``pause_until`` lets a server's rate-limit headers hold every caller.
    """

    def __init__(self, requests_per_second: float | None = None) -> None:
        self._lock = threading.Lock()
        self._interval = 0.0
        self._next_start = 0.0
        self._paused_until = 0.0
        self.tighten(requests_per_second)

    def tighten(self, requests_per_second: float | None) -> None:
        """Lower the allowed rate to ``requests_per_second`` if that is stricter."""
        if requests_per_second:
            with self._lock:
                self._interval = max(self._interval, 1.0 / requests_per_second)

    def pause_until(self, monotonic_deadline: float) -> None:
        """Hold every caller until ``monotonic_deadline`` (a ``time.monotonic()`` value),
        callers already waiting for their turn included."""
        with self._lock:
            self._paused_until = max(self._paused_until, monotonic_deadline)
            self._next_start = max(self._next_start, monotonic_deadline)

    def acquire(self) -> float:
        """Block until a request may start; return the seconds waited.

        A caller whose turn a pause (begun while it waited) now covers takes a new turn after
        the pause, still spaced from the others.
        """
        began = time.monotonic()
        while True:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start, self._paused_until)
                self._next_start = start + self._interval
            if start > now:
                time.sleep(start - now)
            with self._lock:
                if self._paused_until <= start:
                    return time.monotonic() - began


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(host: str, requests_per_second: float | None) -> RateLimiter:
    """The one limiter of this process for ``host``, at the strictest rate anyone asked for."""
    with _registry_lock:
        limiter = _registry.setdefault(host, RateLimiter())
    limiter.tighten(requests_per_second)
    return limiter
