"""Singer output: msgspec-encoded messages, buffered, flushed with every STATE."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.encoding.simple import Message


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Writes messages through stdout's buffer instead of flushing after each one.

    A STATE message flushes, so a target has every record before the state that covers it;
    the rest leave in buffer-sized writes, not one system call per record.
    """

    def write_message(self, message: Message) -> None:
        """Write one message; flush if it is a STATE."""
        sys.stdout.buffer.write(self.format_message(message))
        if isinstance(message, StateMessage):
            sys.stdout.buffer.flush()
