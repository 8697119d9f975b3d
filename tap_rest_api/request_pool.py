"""Worker threads that keep requests in flight while the main thread writes records."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any


class RequestPool:
    """``size`` threads running submitted calls, each answer handed back as a ``Future``.

    The threads are daemons: a stop signal or a failed page ends the tap at once, without
    waiting for requests still in flight (their answers would never be used), which a
    ``ThreadPoolExecutor`` (joined at interpreter exit) would not allow. Nothing here knows
    about pages, so streams side by side or children can later share the same kind of pool.
    """

    def __init__(self, size: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future, Callable[[], Any]] | None] = (
            queue.SimpleQueue())
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True)
            for number in range(1, size + 1)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[[], Any]) -> Future:
        """Run ``call`` on the next free thread; a future cancelled before then never runs."""
        future: Future = Future()
        self._jobs.put((future, call))
        return future

    def close(self) -> None:
        """Let every thread end once its current call returns (calls queued first still run)."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as error:  # handed to the main thread, raised there
                future.set_exception(error)
            else:
                future.set_result(result)


def abandon(futures: list[Future], pool: RequestPool, *, wait_for_flight: bool) -> None:
    """Cancel what was not started yet and let ``pool``'s threads end; with
    ``wait_for_flight`` also wait for the calls running (never more than the pool's size)."""
    for future in futures:
        future.cancel()
    pool.close()
    if wait_for_flight:
        wait(futures)
