"""The first request of a child stream's syncs for upcoming parent records, sent ahead.

The parent plans the records of each page as it arrives; the child's request for each is
prepared in the syncing thread (placeholders, bookmark, page parameters) and sent by a worker.
A child's sync uses an answer only for the identical request (URL and body); otherwise it
requests as usual, so nothing is skipped or read twice even when a plan is wrong.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import requests

from tap_rest_api.records import Page
from tap_rest_api.request_pool import RequestPool

RequestKey = tuple[str | None, Any]
Answer = tuple[requests.Response, Page]


def request_key(prepared: requests.PreparedRequest) -> RequestKey:
    """What makes two prepared requests the same request."""
    return prepared.url, prepared.body


class ChildrenAhead:
    """Keeps up to ``width`` first requests of one child stream in flight or waiting (memory
    stays bounded: the rest of a parent page waits as parent records, not as answers).

    ``prepare`` runs in the syncing thread (it reads the stream's state) and returns None for a
    parent record it cannot plan for; ``fetch`` runs in a worker and changes nothing the
    syncing thread reads.
    """

    def __init__(
        self,
        width: int,
        prepare: Callable[[dict[str, Any]], requests.PreparedRequest | None],
        fetch: Callable[[requests.PreparedRequest], Answer],
        name: str,
    ) -> None:
        self._width = width
        self._prepare = prepare
        self._fetch = fetch
        self._pool = RequestPool(width, name)
        self._planned: deque[dict[str, Any]] = deque()
        self._waiting: deque[tuple[RequestKey, Future]] = deque()

    def plan(self, parent_records: Iterable[dict[str, Any]]) -> None:
        """The parent records of a new page, in order (those of the previous page that were
        never synced, e.g. filtered out by a stream map, are dropped)."""
        self._planned = deque(parent_records)
        self._refill()

    def take(self, prepared: requests.PreparedRequest,
             waiting: Callable[[], AbstractContextManager]) -> Answer | None:
        """The answer to ``prepared`` (response and decoded first page) if it was sent ahead,
        else None. Only the wait for it happens inside ``waiting`` (where a stop may end it);
        its error after retries is raised here. Answers planned before it were for parent
        records whose children were not synced: they are dropped. The requests planned next
        are prepared after the wait, outside it: preparing one writes the stream's state,
        which a stop must never interrupt halfway."""
        key = request_key(prepared)
        position = next((index for index, (waiting_key, _) in enumerate(self._waiting)
                         if waiting_key == key), None)
        if position is None:
            return None
        for _ in range(position):
            self._waiting.popleft()[1].cancel()
        future = self._waiting.popleft()[1]
        with waiting():
            answer = future.result()
        self._refill()
        return answer

    def pause(self) -> None:
        """Drop what was planned or sent for the parent records so far (their syncs are over)
        and keep the threads for the next parent's records."""
        self._planned.clear()
        while self._waiting:
            self._waiting.popleft()[1].cancel()

    def close(self) -> None:
        """Drop what was planned or not sent yet; answers in flight are abandoned."""
        self.pause()
        self._pool.close()

    def _refill(self) -> None:
        while len(self._waiting) < self._width and self._planned:
            prepared = self._prepare(self._planned.popleft())
            if prepared is not None:
                future = self._pool.submit(partial(self._fetch, prepared))
                self._waiting.append((request_key(prepared), future))
