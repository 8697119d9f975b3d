"""Root streams synced side by side in worker threads (top-level ``concurrency`` above 1).

Each root stream runs its whole sync (its pages, its children, its final STATE) in one thread,
so its records stay in page order; the output lock of ``BufferedMsgSpecWriter`` lets one thread
write a message at a time. The first stream to fail stops the others through the ``StopGate``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import as_completed
from functools import partial

from singer_sdk import Stream

from tap_rest_api.interrupt import StopGate, StopRequested
from tap_rest_api.request_pool import RequestPool

logger = logging.getLogger("tap_rest_api.side_by_side")


def sync_side_by_side(roots: list[Stream], width: int, gate: StopGate) -> None:
    """Sync ``roots`` with at most ``width`` at once, started in catalog order.

    Returns once all are done. Raises the first stream's error (the others stop at their next
    request), or ``StopRequested`` when a stop signal arrives while waiting for them.
    """
    pool = RequestPool(min(width, len(roots)), "streams")
    futures = [pool.submit(partial(_sync_root, stream, gate)) for stream in roots]
    pool.close()
    with gate.waiting():  # a stop signal interrupts the wait (threads are daemons)
        for future in as_completed(futures):
            if future.exception() is not None:
                raise gate.failure or future.exception()


def _sync_root(stream: Stream, gate: StopGate) -> None:
    """One root stream and its children, in this worker thread (named after the stream)."""
    threading.current_thread().name = stream.name
    try:
        stream.sync()
        stream.finalize_state_progress_markers()
    except StopRequested:
        raise
    except BaseException as error:
        if gate.fail(error):
            logger.error("Stream '%s' failed: stopping the other streams at their next request",
                         stream.name)
        raise
