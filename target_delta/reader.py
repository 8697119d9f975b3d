"""A Singer message reader on msgspec that keeps JSON numbers as they are.

Integers stay exact Python ints (above 2^53 included) and numbers with a fraction or exponent
become floats (the columns they go to are float64). The SDK's msgspec reader decodes them as
``Decimal`` instead, which costs a conversion per value later; ``rest_api_core.arrow.convert``
accepts both.
"""

from __future__ import annotations

import sys
from typing import IO

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

_decoder = msgspec.json.Decoder()


class FastSingerReader(GenericSingerReader):
    """Reads Singer messages from bytes or text lines with msgspec."""

    @property
    def default_input(self) -> IO[bytes]:
        """Standard input, as bytes (no text decoding before JSON decoding)."""
        return sys.stdin.buffer

    def deserialize_json(self, line: str | bytes) -> dict:
        """One Singer message; an unparsable line is an error quoting its start."""
        try:
            message = _decoder.decode(line)
        except msgspec.DecodeError as exc:
            start = line[:120] if isinstance(line, str) else line[:120].decode(errors="replace")
            raise InvalidInputLine(f"Unable to parse line as JSON ({exc}): {start!r}") from None
        if not isinstance(message, dict):
            raise InvalidInputLine(f"A Singer message must be a JSON object: {str(line)[:120]!r}")
        return message
