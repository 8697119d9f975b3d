"""Pages requested ahead (offset and page pagination), handed out strictly in page order.

The paginator stays the one authority on which page comes next: an answer read ahead is used
only when its token is the paginator's next one, so nothing is skipped or emitted twice even
when the plan turns out wrong (the caller then reads one page at a time).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

import requests

from tap_rest_api.records import Page
from tap_rest_api.request_pool import RequestPool, abandon

Answer = tuple[requests.PreparedRequest, requests.Response, Page]


@dataclass(frozen=True)
class PagePlan:
    """The pages expected after the first: tokens ``first``, ``first + step``, ... (``count``
    of them, or None: until a short page), each of ``size`` records but the last."""

    first: int
    step: int
    size: int
    count: int | None
    first_number: int
    """The page number of the first planned page (for log lines)."""

    def token(self, index: int) -> int:
        """The offset or page number of planned page ``index`` (0-based)."""
        return self.first + index * self.step


class PagesAhead:
    """Keeps up to ``width`` planned pages requested at once; the main thread takes them in order.

    Memory stays bounded: at most ``width`` pages are in flight or waiting, plus the one the
    main thread is writing. ``prepare`` runs in the main thread (it reads the stream's state);
    ``fetch`` runs in a worker thread and must change nothing the main thread reads.
    """

    def __init__(
        self,
        plan: PagePlan,
        width: int,
        prepare: Callable[[int], requests.PreparedRequest],
        fetch: Callable[[requests.PreparedRequest, int], tuple[requests.Response, Page]],
        name: str,
    ) -> None:
        self.plan = plan
        self._width = width
        self._prepare = prepare
        self._fetch = fetch
        self._pool = RequestPool(width, name)
        self._waiting: deque[tuple[int, requests.PreparedRequest, Future]] = deque()
        self._next_index = 0
        self._refill()

    def take(self, token: int, waiting: Callable[[], AbstractContextManager]) -> Answer | None:
        """The answer for ``token`` if it is the next planned page, else None: the plan no
        longer holds. Only the wait for it happens inside ``waiting`` (where a stop may end
        it); its error after retries is raised here; the pages after it are prepared outside."""
        if not self._waiting or self._waiting[0][0] != token:
            return None
        _, prepared, future = self._waiting.popleft()
        with waiting():
            response, page = future.result()
        self._refill()
        return prepared, response, page

    def ends_early(self, page: Page) -> bool:
        """True if ``page`` is shorter than planned: it would end the stream's pages, but its
        answer may be older than the requests before it (the list may have grown since), so
        a request sent now must confirm it."""
        return len(page.records) < self.plan.size

    def close(self, *, wait_for_flight: bool) -> None:
        """Drop what was not sent yet; with ``wait_for_flight``, also wait for the answers in
        flight (never more than ``width`` requests at the server); else abandon them."""
        futures = [future for _, _, future in self._waiting]
        self._waiting.clear()
        abandon(futures, self._pool, wait_for_flight=wait_for_flight)

    def _refill(self) -> None:
        count = self.plan.count
        while (len(self._waiting) < self._width and (count is None or self._next_index < count)
               and not self._end_seen()):
            token = self.plan.token(self._next_index)
            prepared = self._prepare(token)
            number = self.plan.first_number + self._next_index
            future = self._pool.submit(partial(self._fetch, prepared, number))
            self._waiting.append((token, prepared, future))
            self._next_index += 1

    def _end_seen(self) -> bool:
        """A short or empty answer already in: no page beyond it is requested."""
        return any(
            future.done() and not future.cancelled() and future.exception() is None
            and len(future.result()[1].records) < self.plan.size
            for _, _, future in self._waiting
        )
