"""Newline-delimited JSON: one object per line, blank lines skipped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from tap_rest_api.decoders.chunks import buffered
from tap_rest_api.decoders.errors import RecordDecodingError

_UTF8_BOM = b"\xef\xbb\xbf"


class JsonlDecoder:
    """Records from JSON lines; a line longer than ``max_line_bytes`` is an error, so one
    endless line cannot fill the memory."""

    def __init__(self, where: str, max_line_bytes: int) -> None:
        self.where = where
        self.max_line_bytes = max_line_bytes

    def records(self, chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """The object on each line, in order."""
        body = buffered(chunks)
        number = 0
        while line := body.readline(self.max_line_bytes + 1):
            number += 1
            if number == 1:
                line = line.removeprefix(_UTF8_BOM)
            if len(line) > self.max_line_bytes:
                self._fail(number, f"longer than max_response_bytes = {self.max_line_bytes}")
            if not line.strip():
                continue
            try:
                value = msgspec.json.decode(line)
            except msgspec.DecodeError as error:
                self._fail(number, f"not valid JSON ({error})")
            if not isinstance(value, dict):
                self._fail(number, f"expected a JSON object, got {type(value).__name__}")
            yield value

    def _fail(self, number: int, problem: str) -> None:
        raise RecordDecodingError(f"{self.where}, line {number}: {problem}")
