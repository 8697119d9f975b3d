"""Graceful stop for singer-sdk targets: on SIGTERM or SIGINT, drain, then exit 143 or 130.

The SDK's own handler drains from inside the signal handler (possibly in the middle of a
batch) and exits 0. ``GracefulShutdownMixin`` instead treats a stop signal as an early end of
input:

1. reading stops at a message boundary (a read blocked on stdin is interrupted; a message or
   a drain in progress is finished first);
2. the normal end-of-input drain runs, writing STATE only if every buffered record was
   delivered, under a deadline (``drain_deadline`` seconds) watched by a separate thread;
3. the process exits ``128 + signal`` (143 for SIGTERM, 130 for SIGINT) when the drain
   succeeded, non-zero without STATE when it failed or ran out of time.

A second signal is logged and ignored: the shutdown never runs twice.

Use it first among a target's bases after ``StrictConfigMixin``::

    class MyTarget(StrictConfigMixin, GracefulShutdownMixin, Target): ...

and add ``DRAIN_DEADLINE`` to the target's settings.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

from singer_sdk import typing as th

from rest_api_core.sdk_seam import ShutdownHooks

DEFAULT_DRAIN_DEADLINE = 60.0
EXIT_DRAIN_FAILED = 1
"""Exit status when the drain after a stop signal ran out of time."""

logger = logging.getLogger("rest_api_core.target_shutdown")

DRAIN_DEADLINE = th.Property(
    "drain_deadline",
    th.NumberType,
    title="Drain deadline",
    description=f"Seconds allowed, after SIGTERM or SIGINT, to deliver buffered records before "
                f"exiting without STATE (default {DEFAULT_DRAIN_DEADLINE:g})",
)


class _StopReading(Exception):
    """Raised by the signal handler into a blocked read of the input; never escapes."""


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class ShutdownController:
    """The state of one process's graceful stop: which signal, and the drain deadline watch."""

    def __init__(
        self,
        deadline_seconds: float = DEFAULT_DRAIN_DEADLINE,
        on_timeout: Callable[[int], None] = os._exit,
    ) -> None:
        self.deadline_seconds = deadline_seconds
        self.signum: int | None = None
        self._on_timeout = on_timeout
        self._reading = False
        self._started = threading.Event()
        self._drained = threading.Event()
        self.output_lock = threading.Lock()
        """Held while STATE is written, so the deadline never cuts a STATE line in half."""
        threading.Thread(target=self._watch, name="drain-deadline", daemon=True).start()

    @property
    def requested(self) -> bool:
        """True once a stop signal has arrived."""
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """The conventional status for a run stopped by the signal: ``128 + signum``."""
        return 128 + (self.signum or 0)

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        """The signal handler: record the signal once, and interrupt a blocked read."""
        if self.requested:
            logger.warning("Received %s during shutdown: already draining, ignored",
                           signal_name(signum))
            return
        self.signum = signum
        logger.warning(
            "Received %s: stopping input, delivering buffered records (deadline %g s)",
            signal_name(signum),
            self.deadline_seconds,
        )
        self._started.set()
        if self._reading:
            raise _StopReading

    def guarded(self, lines: Iterable[Any]) -> Iterator[Any]:
        """Yield input lines until the input ends or a stop signal arrives."""
        source = iter(lines)
        while not self.requested:
            self._reading = True
            try:
                line = next(source, None)
            except _StopReading:
                return
            finally:
                self._reading = False
            if line is None:
                return
            yield line

    def finish(self) -> None:
        """The drain is over (successfully): disarm the deadline."""
        self._drained.set()

    def _watch(self) -> None:
        self._started.wait()
        if self._drained.wait(self.deadline_seconds):
            return
        with self.output_lock:
            if self._drained.is_set():
                return
            logger.error(
                "Buffered records were not delivered within %g s of %s: exiting without STATE",
                self.deadline_seconds,
                signal_name(self.signum or 0),
            )
            logging.shutdown()
            self._on_timeout(EXIT_DRAIN_FAILED)


class _GuardedReader:
    """Wraps an SDK message reader so its input stops at the shutdown's request."""

    def __init__(self, reader: Any, shutdown: ShutdownController) -> None:
        self._reader = reader
        self._shutdown = shutdown

    def process_lines(self, file_input: Any, callbacks: dict) -> Any:
        """Process the input's lines through the wrapped reader, stopping on a signal."""
        source = file_input or self._reader.default_input
        return self._reader.process_lines(self._shutdown.guarded(source), callbacks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class GracefulShutdownMixin(ShutdownHooks):
    """Drain on SIGTERM/SIGINT within a deadline; STATE and exit 128+signal only if it worked."""

    config: Any
    logger: logging.Logger
    message_reader: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._shutdown = ShutdownController()
        super().__init__(*args, **kwargs)
        self._shutdown.deadline_seconds = float(
            self.config.get("drain_deadline") or DEFAULT_DRAIN_DEADLINE
        )
        self.message_reader = _GuardedReader(self.message_reader, self._shutdown)

    def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        """Drain, then exit (see ``ShutdownController``)."""
        self._shutdown.handle(signum, frame)

    @property
    def state_output_lock(self) -> Any:
        """Held while STATE is written: no STATE between a stop's last batch and its exit."""
        return self._shutdown.output_lock

    def process_endofpipe(self) -> None:
        """Drain everything (the SDK writes STATE after); exit 128+signal if we were stopped."""
        super().process_endofpipe()  # type: ignore[misc]
        if self._shutdown.requested:
            self._shutdown.finish()
            self.logger.warning(
                "Delivered every buffered record after %s; exiting with %d",
                signal_name(self._shutdown.signum or 0),
                self._shutdown.exit_code,
            )
            sys.exit(self._shutdown.exit_code)
