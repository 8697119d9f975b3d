"""Pagination strategies, each on one of the SDK's paginator classes.

Every paginator also knows how to put its token into the next request (``update_request``),
counts pages against ``max_pages`` and refuses a token it has already followed (a loop).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from singer_sdk.pagination import (
    BaseAPIPaginator,
    BaseHATEOASPaginator,
    HeaderLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
)
from singer_sdk.streams.rest import HTTPRequest

from rest_api_core.config import did_you_mean
from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConfigError, ConnectorError
from rest_api_core.redact import SECRETS
from tap_rest_api.pages_ahead import PagePlan
from tap_rest_api.records import Page, PageReader
from tap_rest_api.sdk_seam import count_page, finish, move_to

PAGINATION_TYPES = ("offset", "page", "cursor", "next_link", "link_header")
WINDOWED_TYPES = ("offset", "page")
"""Types whose pages can be addressed directly, so a stream splits into page windows."""
_OPTIONS_BY_TYPE: dict[str, frozenset[str]] = {
    "offset": frozenset({"page_size", "offset_param", "limit_param", "start", "total_field"}),
    "page": frozenset({"page_size", "page_param", "start_page", "limit_param", "total_field"}),
    "cursor": frozenset({"cursor_field", "cursor_from", "cursor_param", "cursor_in", "page_size",
                         "limit_param", "stop_field"}),
    "next_link": frozenset({"link_field"}),
    "link_header": frozenset(),
}
_COMMON_OPTIONS = frozenset({"type", "max_pages"})


class PaginationLoopError(ConnectorError):
    """The API handed back a page token or link that was already followed."""


@dataclass(frozen=True)
class PageWindow:
    """Read only ``pages`` pages from offset or page number ``first`` (a Spark partition's
    share of an offset/page stream); reaching the end of the window is not a warning."""

    first: int
    pages: int


@dataclass(frozen=True)
class PaginationSettings:
    """A checked ``pagination`` block, with every default filled in."""

    type: str
    max_pages: int | None = None
    page_size: int = 100
    limit_param: str | None = "limit"
    offset_param: str = "offset"
    start: int = 0
    page_param: str = "page"
    start_page: int = 1
    total_field: str | None = None
    cursor_field: str = ""
    cursor_from: str = "body"
    cursor_param: str = "cursor"
    cursor_in: str = "query"
    stop_field: str | None = None
    link_field: str = "next"

    @classmethod
    def parse(cls, block: dict[str, Any], field_path: str) -> PaginationSettings:
        """Check a ``pagination`` block for its type; raise ``ConfigError`` naming the field."""
        kind = block.get("type")
        if kind not in _OPTIONS_BY_TYPE:
            msg = (f"{field_path}.type: {kind!r} is not one of {', '.join(PAGINATION_TYPES)}"
                   f"{did_you_mean(str(kind), PAGINATION_TYPES)}")
            raise ConfigError(msg)
        allowed = _OPTIONS_BY_TYPE[kind] | _COMMON_OPTIONS
        for key in block:
            if key not in allowed:
                msg = (f"{field_path}.{key}: does not apply to pagination type '{kind}' "
                       f"(it takes: {', '.join(sorted(allowed))})")
                raise ConfigError(msg)
        values = {k: v for k, v in block.items() if v is not None or k == "limit_param"}
        settings = cls(**values)
        settings._check(field_path)
        return settings

    def _check(self, field_path: str) -> None:
        for name in ("page_size", "max_pages"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{field_path}.{name}: expected a positive integer, got {value}")
        if self.type == "cursor":
            if not self.cursor_field:
                raise ConfigError(f"{field_path}.cursor_field: required for pagination type "
                                  "'cursor' (where the next cursor is found)")
            for name, choices in (("cursor_from", ("body", "header", "last_record")),
                                  ("cursor_in", ("query", "body"))):
                if getattr(self, name) not in choices:
                    raise ConfigError(f"{field_path}.{name}: {getattr(self, name)!r} is not one "
                                      f"of {', '.join(choices)}")


def _normalized_url(url: str, ignored_params: frozenset[str]) -> str:
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if k not in ignored_params)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       urlencode(query), ""))


class GuardedPaginator(BaseAPIPaginator):
    """Adds to the SDK's paginator: ``max_pages``, loop detection and request updating."""

    def __init__(
        self,
        start_value: Any,
        *args: Any,
        settings: PaginationSettings,
        reader: PageReader,
        logger: logging.Logger,
        window_pages: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(start_value, *args, **kwargs)
        self.settings = settings
        self.reader = reader
        self.logger = logger
        self.window_pages = window_pages
        self._seen: set[Hashable] = set()
        self._last_page = False

    def stop_after_this_page(self) -> None:
        """The page being read is the last one (a newest-first feed reached its bookmark)."""
        self._last_page = True

    def loop_key(self, value: Any, response: requests.Response | None) -> Hashable:
        """What identifies a page request for loop detection."""
        return value

    def update_request(self, request: HTTPRequest, token: Any) -> None:
        """Put ``token`` (and the page size) into the request."""

    def advance(self, response: requests.Response) -> None:
        """Move to the next page, or finish; stop at ``max_pages``; refuse a loop."""
        count_page(self)
        self._seen.add(self.loop_key(self.current_value, response))
        if self._last_page or (self.window_pages is not None
                               and self.count >= self.window_pages):
            finish(self)
            return
        if self.reader.read(response).empty_status or not self.has_more(response):
            finish(self)
            return
        new_value = self.get_next(response)
        if new_value is None or new_value == "":
            finish(self)
            return
        if self.loop_key(new_value, None) in self._seen:
            msg = (f"stream '{self.reader.stream_name}': pagination loop after page "
                   f"{self.count}: the API returned {SECRETS.redact(str(new_value))!r} "
                   "again, which was already requested")
            raise PaginationLoopError(msg)
        if self.settings.max_pages and self.count >= self.settings.max_pages:
            self.logger.warning(
                "Stream '%s': stopped at pagination.max_pages = %d; the API has more pages",
                self.reader.stream_name, self.settings.max_pages,
            )
            finish(self)
            return
        move_to(self, new_value)

    def _put_page_size(self, request: HTTPRequest, into_body: bool = False) -> None:
        if self.settings.limit_param is None:
            return
        target = request.params
        if into_body:
            request.data = target = dict(request.data or {})
        target[self.settings.limit_param] = self.settings.page_size


class CountingPaginator(GuardedPaginator):
    """Shared by offset and page: stop on a short page, or go on until ``total_field``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0

    def has_more(self, response: requests.Response) -> bool:
        page = self.reader.read(response)
        count = page.record_count
        self.received += count
        if count == 0:
            return False
        if self.settings.total_field:
            total = dig(page.body, self.settings.total_field)
            if isinstance(total, int):
                return self.received < total
            self.logger.warning(
                "Stream '%s': pagination.total_field '%s' is missing or not an integer on page "
                "%d; stopping on the first short page instead",
                self.reader.stream_name, self.settings.total_field, page.number,
            )
        return count >= self.settings.page_size

    def plan_ahead(self, page: Page) -> PagePlan | None:
        """After the first page: the pages to request ahead, each the size the server actually
        returned (servers cap page sizes); as many as ``total_field``, ``max_pages`` and a
        Spark partition's page window leave, or an open-ended plan without a total. None when
        nothing is left to plan."""
        size = len(page.records)
        count = None
        total = dig(page.body, self.settings.total_field) if self.settings.total_field else None
        if isinstance(total, int) and not isinstance(total, bool):
            count = -(-(total - self.received) // size)
        for cap in (self.settings.max_pages, self.window_pages):
            if cap:
                left = cap - self.count
                count = left if count is None else min(count, left)
        if count is not None and count < 1:
            return None
        return PagePlan(first=self.current_value, step=self._step(size), size=size, count=count,
                        first_number=page.number + 1)

    def _step(self, size: int) -> int:
        """How far the token moves from one page to the next."""
        return 1


class OffsetPagination(CountingPaginator, OffsetPaginator):
    """``offset`` pagination: the offset advances by the records actually received."""

    def get_next(self, response: requests.Response) -> int | None:
        return self.current_value + self.reader.read(response).record_count

    def _step(self, size: int) -> int:
        return size

    def update_request(self, request: HTTPRequest, token: Any) -> None:
        request.params[self.settings.offset_param] = token
        self._put_page_size(request)


class PagePagination(CountingPaginator, PageNumberPaginator):
    """``page`` pagination: page numbers from ``start_page``."""

    def update_request(self, request: HTTPRequest, token: Any) -> None:
        request.params[self.settings.page_param] = token
        self._put_page_size(request)


class CursorPagination(GuardedPaginator):
    """``cursor`` pagination: a token from the body, a header or the last record."""

    def has_more(self, response: requests.Response) -> bool:
        if self.settings.stop_field is None:
            return True
        return dig(self.reader.read(response).body, self.settings.stop_field) is True

    def get_next(self, response: requests.Response) -> Any:
        field_name = self.settings.cursor_field
        if self.settings.cursor_from == "header":
            return response.headers.get(field_name)
        page = self.reader.read(response)
        if self.settings.cursor_from == "last_record":
            last = page.last_record
            return dig(last, field_name) if last is not None else None
        return dig(page.body, field_name)

    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.settings.cursor_from != "last_record"

    def update_request(self, request: HTTPRequest, token: Any) -> None:
        in_body = self.settings.cursor_in == "body"
        self._put_page_size(request, into_body=in_body)
        if token is None:
            return
        if in_body:
            request.data = {**(request.data or {}), self.settings.cursor_param: token}
        else:
            request.params[self.settings.cursor_param] = token


class _LinkFollowing(BaseHATEOASPaginator, GuardedPaginator):
    """Follows next-page URLs, resolved against the URL of the page that gave them."""

    def __init__(self, *args: Any, credential_params: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.credential_params = credential_params

    def get_next(self, response: requests.Response) -> str | None:
        link = self.get_next_url(response)
        return urljoin(response.url, link) if isinstance(link, str) and link else None

    def continue_if_empty(self, response: requests.Response) -> bool:
        return True

    def loop_key(self, value: Any, response: requests.Response | None) -> Hashable:
        url = value if value is not None else (response.url if response is not None else "")
        return _normalized_url(url, self.credential_params)

    def update_request(self, request: HTTPRequest, token: Any) -> None:
        if token is not None:
            request.url = token
            request.params = {}


class NextLinkPagination(_LinkFollowing):
    """``next_link`` pagination: a URL at ``link_field`` in the body."""

    def get_next_url(self, response: requests.Response) -> str | None:
        return dig(self.reader.read(response).body, self.settings.link_field)


class LinkHeaderPagination(_LinkFollowing, HeaderLinkPaginator):
    """``link_header`` pagination: the RFC 8288 ``Link: <...>; rel="next"`` header."""


def build_paginator(
    settings: PaginationSettings | None,
    reader: PageReader,
    logger: logging.Logger,
    credential_params: frozenset[str],
    window: PageWindow | None = None,
) -> GuardedPaginator | None:
    """A fresh paginator for one sync of a stream, or None for a single request.

    A ``window`` (offset and page pagination only) starts at its first offset or page and
    stops after its pages.
    """
    if settings is None:
        return None
    common = {"settings": settings, "reader": reader, "logger": logger}
    if window is not None and settings.type in WINDOWED_TYPES:
        common["window_pages"] = window.pages
    if settings.type == "offset":
        start = settings.start if window is None else window.first
        return OffsetPagination(start, page_size=settings.page_size, **common)
    if settings.type == "page":
        return PagePagination(settings.start_page if window is None else window.first, **common)
    if settings.type == "cursor":
        return CursorPagination(None, **common)
    link_class = NextLinkPagination if settings.type == "next_link" else LinkHeaderPagination
    return link_class(credential_params=credential_params, **common)
