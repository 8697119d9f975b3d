"""Singer output: msgspec-encoded messages, buffered, flushed with every STATE."""

from __future__ import annotations

import atexit
import io
import sys
import threading
from datetime import datetime
from typing import Any, BinaryIO

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.encoding.simple import Message

BUFFER_BYTES = 1 << 16


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Writes messages through a buffer instead of flushing after each one.

    A STATE message flushes, so a target has every record before the state that covers it,
    and so does each request to the API (``flush``), so a target has every page read before the
    tap waits on the network; the rest leave in buffer-sized writes, not one system call per
    record. That holds when
    Python runs unbuffered too (``PYTHONUNBUFFERED``, ``-u``: stdout's binary layer is then
    the raw file), with a buffer of our own over the same file descriptor.

    Streams synced side by side share it: ``lock`` lets one thread write a message at a time
    (and mutate the tap's state, see ``RestApiStream``), and ``close`` ends the output for good
    once the final STATE of a stopped run is out.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._raw: object = None
        self._out: BinaryIO | None = None
        self.lock = threading.RLock()
        self._closed = False

    def _stream(self) -> BinaryIO:
        stdout = sys.stdout.buffer
        if stdout is not self._raw:  # first use, or stdout was replaced
            self._raw = stdout
            self._out = stdout
            if isinstance(stdout, io.RawIOBase):
                self._out = open(stdout.fileno(), "wb", buffering=BUFFER_BYTES,  # noqa: SIM115
                                 closefd=False)
                atexit.register(self._out.flush)
        assert self._out is not None
        return self._out

    def write_message(self, message: Message) -> None:
        """Write one message; flush if it is a STATE."""
        with self.lock:
            if self._closed:
                return
            out = self._stream()
            out.write(self.format_message(message))
            if isinstance(message, StateMessage):
                out.flush()

    def write_record(self, stream: str, record: dict[str, Any], version: int | None,
                     time_extracted: datetime | None) -> None:
        """One RECORD message, the same bytes as ``RecordMessage(...)`` through
        ``write_message`` (``time_extracted`` is already UTC), without building that object
        for every record."""
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        if time_extracted is not None:
            message["time_extracted"] = time_extracted
        with self.lock:  # the SDK's serializer reuses one module-wide buffer
            if not self._closed:
                self._stream().write(serialize_jsonl(message))

    def flush(self) -> None:
        """Write out what is buffered."""
        with self.lock:
            if self._out is not None:
                self._out.flush()

    def close(self) -> None:
        """Write out what is buffered and nothing after: threads still running when a stopped
        run exits cannot add a record after its final STATE."""
        with self.lock:
            self.flush()
            self._closed = True
