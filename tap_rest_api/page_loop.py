"""The page loop of an offset or page stream with ``concurrency`` above 1: the SDK's loop, with
each page taken from ``PagesAhead`` when it holds the paginator's next token.

The first page plans the rest. A page shorter than planned ends the plan: its answer may be
older than the requests before it, so that page is requested again now, and the stream goes on
one request at a time from there, exactly as a sequential read would. So reading ahead never
reads less than one request at a time would, even while the list grows under it (the one
request more: the short last page of a stream is requested twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from tap_rest_api.pages_ahead import Answer, PagesAhead
from tap_rest_api.pagination import WINDOWED_TYPES, CountingPaginator

if TYPE_CHECKING:
    from tap_rest_api.records import Page
    from tap_rest_api.streams import RestApiStream


def reads_pages_ahead(stream: RestApiStream) -> bool:
    """True for a root offset/page stream with ``concurrency`` above 1, read whole or a Spark
    partition's page window (not for its sample, nor a streamed format's: each of its pages
    holds a connection until read through, nor a newest-first feed that stops at its
    bookmark: no request may go past that page)."""
    pagination = stream.settings.pagination
    incremental = stream.settings.incremental
    return (stream.settings.concurrency > 1
            and not stream.settings.response.streamed
            and (incremental is None or incremental.order != "descending")
            and pagination is not None
            and pagination.type in WINDOWED_TYPES and not stream.answers.sampling
            and stream.parent_stream is None)


class PageLoop:
    """One sync's pages, in page order; records are written by the syncing thread only."""

    def __init__(self, stream: RestApiStream, context: dict | None) -> None:
        self.stream = stream
        self.context = context
        self.ahead: PagesAhead | None = None
        self._short: tuple[Page, int] | None = None
        """A page ahead shorter than planned (and the plan's page size), being confirmed."""

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record of every page, as the SDK's loop yields them."""
        stream, context = self.stream, self.context
        paginator = stream.get_new_paginator()
        send = stream.request_decorator(stream.answers.send_once)
        with stream.get_http_request_counter() as request_counter:
            request_counter.with_context(context)
            try:
                while not paginator.finished:
                    answer = self._take(paginator.current_value)
                    if answer is not None:
                        prepared, response, page = answer
                        stream.reader.accept(response, page)
                    else:
                        prepared = stream.prepare_page(context, paginator.current_value)
                        response = send(prepared, context)
                        page = stream.reader.read(response)
                    request_counter.increment()
                    stream.update_sync_costs(prepared, response, context)
                    if not page.records:
                        break  # as the SDK's loop: an empty page ends offset/page pagination
                    yield from page.records
                    paginator.advance(response)
                    if self._short is not None:
                        self._report_short(paginator.finished)
                    if paginator.finished:
                        break
                    if page.number == 1:
                        self.ahead = self._start(paginator, page)
            except BaseException:
                if self.ahead is not None:
                    self.ahead.close(wait_for_flight=False)
                raise
            if self.ahead is not None:
                self.ahead.close(wait_for_flight=True)

    def _take(self, token: Any) -> Answer | None:
        """The planned page at ``token``; None (and no more pages ahead) when the plan no
        longer holds or the page is shorter than planned (then it is requested again, now)."""
        if self.ahead is None:
            return None
        answer = self.ahead.take(token, self.stream.answers.waiting_on_the_api)
        if answer is None:
            self._stop()
        elif self.ahead.ends_early(answer[2]):
            self._short = (answer[2], self.ahead.plan.size)
            self._stop()
            return None
        return answer

    def _start(self, paginator: CountingPaginator, first: Page) -> PagesAhead | None:
        plan = paginator.plan_ahead(first)
        if plan is None:
            return None
        stream = self.stream
        return PagesAhead(plan, stream.settings.concurrency,
                          prepare=partial(stream.prepare_page, self.context),
                          fetch=partial(stream.answers.fetch_decoded, stream.reader,
                                        self.context),
                          name=f"{stream.name}-pages")

    def _stop(self) -> None:
        """Go on one request at a time (answers ahead are dropped, not used)."""
        self.ahead.close(wait_for_flight=True)
        self.ahead = None

    def _report_short(self, finished: bool) -> None:
        """A short page ahead was confirmed: the end (nothing to say), or the data changed."""
        page, size = self._short
        self._short = None
        if not finished:
            self.stream.logger.info(
                "Stream '%s': page %d has %d records where %d were expected (the data changed "
                "while reading?): reading one page at a time from here",
                self.stream.name, page.number, len(page.records), size)
