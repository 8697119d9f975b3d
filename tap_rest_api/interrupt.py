"""Stopping the tap on SIGTERM or SIGINT without a half-written line or a state that lies."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("tap_rest_api.interrupt")


class StopRequested(BaseException):
    """Unwinds the sync after a stop signal (a BaseException, so no retry loop catches it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


class StopGate:
    """Where a stop signal may take effect: at once while waiting on the API, else at the next
    request. Records already being written are finished first; a second signal is ignored."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._waiting = 0

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

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """A block (an HTTP request with its retries and waits) that a stop may interrupt."""
        if self.signum is not None:
            raise StopRequested(self.signum)
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1
