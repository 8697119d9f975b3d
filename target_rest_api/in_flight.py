"""Batches in flight: up to ``max_in_flight`` deliveries at once, STATE behind a watermark."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rest_api_core.redact import SECRETS

logger = logging.getLogger("target_rest_api.in_flight")


class DeliveryWindow:
    """Delivers batches on a few threads and passes STATE on only behind every batch before it.

    Each batch gets a number when submitted (all streams together). The watermark is the
    highest number up to which every batch is acknowledged (2xx) or dead-lettered; a STATE is
    written once the watermark reaches the last batch submitted before it. At most ``size``
    batches are in flight or waiting, so memory stays bounded and ``submit`` (the input
    reader) blocks while every slot is busy.

    The first failure stops the window: batches still waiting are not sent, those in flight
    end, then ``submit`` and ``wait`` raise it. With ``size`` 1 each batch is delivered in the
    caller's thread, exactly as before batches could be in flight.
    """

    def __init__(self, size: int, write_state: Callable[[dict], None]) -> None:
        self._write_state = write_state
        self._pool = (ThreadPoolExecutor(size, thread_name_prefix="delivery")
                      if size > 1 else None)
        self._slots = threading.BoundedSemaphore(size)
        self._changed = threading.Condition()
        self._submitted = 0
        """Numbers given out so far (batch numbers start at 1)."""
        self._ended = 0
        self._acknowledged: set[int] = set()
        """Numbers above the watermark already acknowledged or dead-lettered."""
        self._watermark = 0
        self._states: deque[tuple[int, dict]] = deque()
        """STATEs waiting, each with the last batch number submitted before it."""
        self._writing = threading.Lock()
        self._failure: Exception | None = None

    def submit(self, deliver: Callable[[], None]) -> None:
        """Run ``deliver`` (one batch) as soon as a slot is free; raise the first failure."""
        self._raise_failure()
        if self._pool is None:
            deliver()
            return
        self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            self._raise_failure()
        with self._changed:
            self._submitted += 1
            number = self._submitted
        self._pool.submit(self._run, number, deliver)

    def offer_state(self, state: dict) -> None:
        """Write ``state`` once every batch submitted so far is acknowledged or dead-lettered."""
        with self._changed:
            self._states.append((self._submitted, state))
        self._write_ready_state()

    def wait(self) -> None:
        """Block until every submitted batch has ended; raise the first failure."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended == self._submitted)
            failure = self._failure
        if failure is not None:
            raise failure

    def _raise_failure(self) -> None:
        if self._failure is not None:
            self.wait()

    def _run(self, number: int, deliver: Callable[[], None]) -> None:
        try:
            if self._failure is None:  # else an earlier batch failed: this one is not sent
                deliver()
                with self._changed:
                    self._acknowledge(number)
                self._write_ready_state()
        except Exception as error:  # handed to the reading thread, which raises it
            self._fail(error)
        finally:
            with self._changed:
                self._ended += 1
                self._changed.notify_all()
            self._slots.release()

    def _fail(self, error: Exception) -> None:
        with self._changed:
            first = self._failure is None
            if first:
                self._failure = error
        if not first:
            logger.error("Also failed while stopping: %s", SECRETS.redact(str(error)))

    def _acknowledge(self, number: int) -> None:
        """Count batch ``number`` as acknowledged and move the watermark (lock held)."""
        self._acknowledged.add(number)
        while self._watermark + 1 in self._acknowledged:
            self._watermark += 1
            self._acknowledged.discard(self._watermark)

    def _write_ready_state(self) -> None:
        """Write the latest STATE the watermark has reached, if any; one writer at a time, so
        STATEs go out in the order they came in."""
        with self._writing:
            ready = None
            with self._changed:
                while self._states and self._states[0][0] <= self._watermark:
                    ready = self._states.popleft()[1]
            if ready is not None:
                self._write_state(ready)
