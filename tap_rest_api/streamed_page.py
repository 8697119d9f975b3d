"""The records of a streamed response (jsonl, csv, xml, compressed files), read as the body
arrives: a 1 GB export is never held in memory.

The first records are read ahead while the request may still be retried (inside the retry
policy, before anything is written): a body cut before them is requested again. Once records of
it were written, a cut cannot be retried without writing them twice, and a half-read file
cannot be resumed: the stream fails, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from rest_api_core.errors import ConnectorError
from rest_api_core.http import describe, stream_body
from tap_rest_api.decoders import ResponseFormat, decoded_records

READ_AHEAD_RECORDS = 1000
"""Records decoded before the first is written: the inferred schema's sample, and what a
retry may still cover."""


class HalfReadFileError(ConnectorError):
    """A streamed body broke off after some of its records were written."""


class StreamedRecords:
    """One streamed response's records: those read ahead, then the rest as they arrive. Read
    through once (the sample's first record and the sync share the records read ahead)."""

    def __init__(self, response: requests.Response, decoding: ResponseFormat,
                 where: str) -> None:
        self.where = where
        self.request = describe(response)
        self.ahead: list[dict[str, Any]] = []
        self.count = 0
        """Records produced so far (all of them once read through)."""
        self.last: dict[str, Any] | None = None
        self._live = decoded_records(stream_body(response), decoding, where)
        self._went_live = False

    @classmethod
    def of(cls, response: requests.Response, decoding: ResponseFormat, where: str
           ) -> StreamedRecords:
        """The records of ``response``, kept on it: a response answered for the sample is read
        by the sync's reader too."""
        found = getattr(response, "streamed_records", None)
        if found is None:
            found = cls(response, decoding, where)
            found.read_ahead(READ_AHEAD_RECORDS)
            response.streamed_records = found
        return found

    def read_ahead(self, count: int) -> None:
        """Decode up to ``count`` records now (a broken body raises the retried error)."""
        for record in self._live:
            self._note(record)
            self.ahead.append(record)
            if len(self.ahead) >= count:
                break

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._went_live:
            msg = f"{self.where}: a streamed body cannot be read twice"
            raise ConnectorError(msg)
        yield from self.ahead
        if len(self.ahead) < READ_AHEAD_RECORDS:
            return
        self._went_live = True
        try:
            for record in self._live:
                self._note(record)
                yield record
        except requests.RequestException as error:
            msg = (f"{self.where}: {error}; {self.count} records of this file were already "
                   "written and a half-read file cannot be resumed: run the sync again (it reads "
                   "the file from its start)")
            raise HalfReadFileError(msg) from None

    def _note(self, record: dict[str, Any]) -> None:
        self.count += 1
        self.last = record
