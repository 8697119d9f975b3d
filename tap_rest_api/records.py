"""Turning one HTTP response into a page: its decoded body and the records in it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import requests

from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConnectorError
from rest_api_core.response_rules import ResponseRules
from tap_rest_api.decoders import ResponseFormat
from tap_rest_api.json_pages import decompressed
from tap_rest_api.streamed_page import StreamedRecords

if TYPE_CHECKING:
    from tap_rest_api.settings import StreamSettings


class UndecodableBodyError(requests.exceptions.ContentDecodingError):
    """A body that is not valid JSON (often a truncated one): retried like a broken connection."""


class RecordShapeError(ConnectorError):
    """A record that is not a JSON object."""


def decode_json(content: bytes) -> Any:
    """Decode a JSON body with msgspec: fast, and exact for integers of any size."""
    if not content.strip():
        return None
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError as error:
        msg = f"response body is not valid JSON ({error})"
        raise UndecodableBodyError(msg) from None


@dataclass
class Page:
    """A decoded response: the whole body and the records found in it."""

    number: int
    body: Any
    records: list[dict[str, Any]]
    empty_status: bool = False
    """An ``ignore`` rule (or ``response.empty_on``) matched: no records, no next page."""
    received_at: datetime | None = None
    streamed: StreamedRecords | None = None
    """A streamed body's records (``records`` holds those read ahead)."""

    @property
    def record_count(self) -> int:
        """The page's records: all of a streamed body's once it has been read through."""
        return self.streamed.count if self.streamed is not None else len(self.records)

    @property
    def last_record(self) -> dict[str, Any] | None:
        """The page's last record (of a streamed body: once read through)."""
        if self.streamed is not None:
            return self.streamed.last
        return self.records[-1] if self.records else None

    def all_records(self) -> Iterable[dict[str, Any]]:
        """Every record of the page: of a streamed body, as they arrive."""
        return self.streamed if self.streamed is not None else self.records


class PageReader:
    """Reads records out of a stream's responses, remembering the last page for the paginator."""

    def __init__(
        self, stream_name: str, root_key: str | None, logger: logging.Logger,
        rules: ResponseRules | None = None, decoding: ResponseFormat | None = None,
    ) -> None:
        self.stream_name = stream_name
        self.root_key = root_key
        self.decoding = decoding or ResponseFormat(root_key=root_key)
        self.logger = logger
        self.rules = rules or ResponseRules()
        self.pages_read = 0
        self.last_received_at: datetime | None = None
        self._last: tuple[requests.Response, Page] | None = None

    @classmethod
    def for_stream(cls, settings: StreamSettings, logger: logging.Logger) -> PageReader:
        """A reader of the stream's pages as its settings describe them."""
        return cls(settings.name, settings.root_key, logger,
                   ResponseRules(settings.response_rules), settings.response)

    @property
    def last_page(self) -> Page:
        """The page read most recently."""
        if self._last is None:
            raise LookupError("no page has been read yet")
        return self._last[1]

    def read(self, response: requests.Response) -> Page:
        """The page of ``response``, decoded once however often it is asked for."""
        if self._last is not None and self._last[0] is response:
            return self._last[1]
        return self.accept(response, self.decode(response, self.pages_read + 1))

    def decode(self, response: requests.Response, number: int) -> Page:
        """``response`` decoded as page ``number``, changing nothing here: safe in any thread
        (pages read ahead are decoded by the thread that fetched them)."""
        received_at = datetime.now(timezone.utc)
        if self.rules.ignores(response):
            return Page(number, None, [], empty_status=True, received_at=received_at)
        where = f"stream '{self.stream_name}', page {number}"
        if self.decoding.streamed:
            streamed = StreamedRecords.of(response, self.decoding, where)
            return Page(number, None, streamed.ahead, received_at=received_at, streamed=streamed)
        documents = [decode_json(content) for content in
                     decompressed(response.content, self.decoding, where)]
        records = [record for body in documents for record in self._records_in(body, number)]
        body = documents[0] if len(documents) == 1 else None
        return Page(number, body, records, received_at=received_at)

    def accept(self, response: requests.Response, page: Page) -> Page:
        """Make ``page`` (decoded from ``response``) the page read most recently."""
        self.pages_read += 1
        self.last_received_at = page.received_at
        self._last = (response, page)
        return page

    def _records_in(self, body: Any, number: int) -> list[dict[str, Any]]:
        found = body
        if self.root_key:
            found = dig(body, self.root_key)
            if found is None:
                keys = ", ".join(map(str, body)) if isinstance(body, dict) else type(body).__name__
                self.logger.warning(
                    "Stream '%s', page %d: response.root_key '%s' is missing or null; "
                    "the page has 0 records (the response has: %s)",
                    self.stream_name, number, self.root_key, keys or "nothing",
                )
                return []
        if found is None:
            return []
        records = found if isinstance(found, list) else [found]
        for position, record in enumerate(records):
            if not isinstance(record, dict):
                msg = (
                    f"stream '{self.stream_name}', page {number}, record {position}: expected a "
                    f"JSON object, got {type(record).__name__}"
                )
                raise RecordShapeError(msg)
        return records
