"""Windows fetched ahead: with ``concurrency`` above 1, each later window is read whole (all
its pages) in a worker thread while the syncing thread writes the windows before it, strictly
in window order. At most ``concurrency`` windows wait in memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING

import requests

from tap_rest_api.pagination import build_paginator
from tap_rest_api.records import Page, PageReader
from tap_rest_api.request_plan import prepared
from tap_rest_api.request_pool import RequestPool, abandon

if TYPE_CHECKING:
    from tap_rest_api.streams import RestApiStream
    from tap_rest_api.windows import Window

WindowPages = list[tuple[requests.Response, Page]]


def read_window(stream: RestApiStream, context: dict | None, window: Window) -> WindowPages:
    """Every page of ``window`` with the stream's pagination, in a worker thread: its own
    reader and paginator; nothing of the stream is changed."""
    settings = stream.settings
    reader = PageReader.for_stream(settings, stream.logger)
    paginator = None
    if settings.pagination is not None:
        paginator = build_paginator(settings.pagination, reader, stream.logger,
                                    getattr(stream.auth, "param_names", frozenset()), None)
    pages: WindowPages = []
    while True:
        token = paginator.current_value if paginator is not None else None
        request = stream.planner.http_request(context, token, paginator, None, window)
        response, page = stream.answers.fetch_decoded(
            reader, context, prepared(stream, request), len(pages) + 1)
        reader.accept(response, page)
        pages.append((response, page))
        if paginator is None or (not page.records and not paginator.continue_if_empty(response)):
            return pages
        paginator.advance(response)
        if paginator.finished:
            return pages


class WindowsAhead:
    """Windows ``2..n`` of a plan requested ahead, handed out in order."""

    def __init__(self, stream: RestApiStream, context: dict | None, later: list[Window]) -> None:
        width = stream.settings.concurrency
        self._fetch: Callable[[Window], WindowPages] = partial(read_window, stream, context)
        self._pool = RequestPool(width, f"{stream.name}-windows")
        self._later = deque(later)
        self._width = width
        self._waiting: deque[tuple[Window, Future]] = deque()
        self._refill()

    def take(self, window: Window, waiting: Callable[[], AbstractContextManager]
             ) -> Iterator[tuple[requests.Response, Page]]:
        """The pages of ``window`` (the next one in the plan), once all are read; its error
        after retries is raised here. Only the wait happens inside ``waiting``."""
        planned, future = self._waiting.popleft()
        if planned != window:
            msg = f"window {window.number} asked for, window {planned.number} is next"
            raise RuntimeError(msg)
        with waiting():
            pages = future.result()
        self._refill()
        return iter(pages)

    def close(self, *, wait_for_flight: bool) -> None:
        """Drop windows not started; with ``wait_for_flight`` also wait for those in flight."""
        futures = [future for _, future in self._waiting]
        self._waiting.clear()
        self._later.clear()
        abandon(futures, self._pool, wait_for_flight=wait_for_flight)

    def _refill(self) -> None:
        while self._later and len(self._waiting) < self._width:
            window = self._later.popleft()
            self._waiting.append((window, self._pool.submit(partial(self._fetch, window))))
