"""Stopping the tap on SIGTERM or SIGINT, or when one of the streams synced side by side fails,
without a half-written line or a state that lies."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("tap_rest_api.interrupt")


class StopRequested(BaseException):
    """Unwinds the sync after a stop signal (a BaseException, so no retry loop catches it), or
    a stream's thread after another stream failed (``signum`` None: that failure is reported)."""

    def __init__(self, signum: int | None) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}" if signum is not None
                         else "stopped: another stream failed")
        self.exit_code = 128 + signum if signum is not None else 1


class StopGate:
    """Where a stop may take effect: at once while the main thread waits on the API (or on the
    streams' threads), else at the next request of each thread. Records already being written
    are finished first; a second signal is ignored."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.failure: BaseException | None = None
        """The first error of a stream synced side by side (the others stop at their next
        request)."""
        self._lock = threading.Lock()
        self._waiting = 0  # main thread only: a signal handler runs, and raises, there

    def request(self, signum: int) -> None:
        """Called from the signal handler."""
        if self.signum is not None:
            logger.warning("Received %s while stopping: ignored", signal.Signals(signum).name)
            return
        self.signum = signum
        logger.warning("Received %s: stopping after the records already written",
                       signal.Signals(signum).name)
        if self._waiting:
            raise StopRequested(signum)

    def fail(self, error: BaseException) -> bool:
        """Stop every thread after ``error``; True if it is the first (the one reported)."""
        with self._lock:
            if self.failure is not None or self.signum is not None:
                return False
            self.failure = error
            return True

    def check(self) -> None:
        """Raise ``StopRequested`` if a stop was asked for."""
        if self.signum is not None:
            raise StopRequested(self.signum)
        if self.failure is not None:
            raise StopRequested(None)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """A block (an HTTP request with its retries and waits) that a stop may interrupt.

        The wait is counted before the check: a signal landing between the two raises at once
        instead of being left for the next request."""
        in_main = threading.current_thread() is threading.main_thread()
        self._waiting += in_main
        try:
            self.check()
            yield
        finally:
            self._waiting -= in_main
