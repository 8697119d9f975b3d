"""Thread-safe request-rate limiters, one per host, shared by every client of a plugin run."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Spaces request starts at least ``1 / requests_per_second`` apart: no bursts (a caller
    asks ``try_start`` when it is ready to send, and waits as long as it says).

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

    def try_start(self) -> float:
        """Start a request now if its turn has come (0.0), else take no turn and return the
        seconds until it may come: a caller holding a request slot releases it for the wait."""
        with self._lock:
            now = time.monotonic()
            start = max(self._next_start, self._paused_until)
            if start > now:
                return start - now
            self._next_start = now + self._interval
            return 0.0


class HostLimiters:
    """The rate limiters of one plugin run, one per host, shared by all its clients and threads.

    Owned by the tap or target instance (not a module global), so two runs in one process (the
    tests, Spark's reused Python workers) never share or tighten each other's limits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_host: dict[str, RateLimiter] = {}

    def for_host(self, host: str, requests_per_second: float | None) -> RateLimiter:
        """The limiter for ``host``, at the strictest rate any client of the run asked for."""
        with self._lock:
            limiter = self._by_host.setdefault(host, RateLimiter())
        limiter.tighten(requests_per_second)
        return limiter
