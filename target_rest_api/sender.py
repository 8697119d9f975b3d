"""One background thread that sends batches in order while the target reads on.

Reading and validating records costs CPU; a request mostly waits on the network. Handing
each batch to this thread overlaps the two. At most ``depth`` batches wait, so memory stays
flat; batches go out strictly in the order they were handed over, so every stream's records
keep their order. A failure stops the sending and is raised again in the caller's thread at
the next ``submit`` or ``flush``, and STATE is written only after a ``flush``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

DEFAULT_DEPTH = 2


class BackgroundSender:
    """Runs submitted deliveries one at a time, in order, on its own thread."""

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self._tasks: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=depth)
        self._failure: Exception | None = None
        threading.Thread(target=self._run, name="batch-sender", daemon=True).start()

    def submit(self, task: Callable[[], None]) -> None:
        """Queue ``task`` (blocks while ``depth`` tasks wait); raise an earlier failure."""
        self._raise_failure()
        self._tasks.put(task)

    def flush(self) -> None:
        """Wait until every submitted task has finished; raise the first failure."""
        self._tasks.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                if self._failure is None:
                    task()
            except Exception as error:  # handed to the caller's thread by _raise_failure
                self._failure = error
            finally:
                self._tasks.task_done()
