"""Children of upcoming parent records, requested ahead: the parent hands each new page's
records to its children with ``concurrency`` above 1, and each child sends its first request for
them ahead (``ChildrenAhead``) while the parent's records are written."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

from tap_rest_api.children_ahead import ChildrenAhead
from tap_rest_api.pagination import build_paginator
from tap_rest_api.parents import ParentFieldError
from tap_rest_api.records import PageReader
from tap_rest_api.request_plan import prepared
from tap_rest_api.sdk_seam import start_bookmark

if TYPE_CHECKING:
    from tap_rest_api.records import Page
    from tap_rest_api.streams import RestApiStream


def with_children_ahead(parent: RestApiStream, records: Iterable[dict[str, Any]]
                        ) -> Iterable[dict[str, Any]]:
    """``records`` of ``parent``; with children that read ahead, each new page's records are
    planned for them first."""
    ahead = [child for child in parent.child_streams if child.settings.concurrency > 1
             and child.settings.report is None  # a report job is created, not sent ahead
             and (child.selected or child.has_selected_descendents)]
    if not ahead:
        return records
    return _planning(parent, records, ahead)


def _planning(parent: RestApiStream, records: Iterable[dict[str, Any]],
              ahead: list[RestApiStream]) -> Iterator[dict[str, Any]]:
    planned: Page | None = None
    try:
        for record in records:
            page = parent.reader.last_page
            if page is not planned:
                planned = page
                with_included = [{**each, **parent.from_parent} for each in page.records]
                for child in ahead:
                    child.children_ahead.plan(with_included)
            yield record
    finally:
        for child in ahead:
            # An intermediate stream syncs once per record of its own parent: its children
            # keep their threads until the root's sync ends (``stop_reading_ahead``).
            child.children_ahead.pause()


def stop_reading_ahead(root: RestApiStream) -> None:
    """The root's sync ended (or failed): no descendant sends anything ahead any more."""
    for stream in root.descendent_streams:
        stream.children_ahead.stop()


class ChildPlanner:
    """One child's first requests for upcoming parent records, up to its ``concurrency`` at
    once (planned by the parent between two of this child's syncs)."""

    def __init__(self, child: RestApiStream) -> None:
        self.child = child
        self._ahead: ChildrenAhead | None = None

    def plan(self, parent_records: list[dict[str, Any]]) -> None:
        """Send the first request for each of ``parent_records`` ahead."""
        child = self.child
        if self._ahead is None:
            reader = PageReader.for_stream(child.settings, child.logger)  # decodes only
            self._ahead = ChildrenAhead(child.settings.concurrency, self._first_request,
                                        partial(child.answers.fetch_decoded, reader, None,
                                                number=1),
                                        name=f"{child.name}-ahead")
            child.answers.children = self._ahead
        self._ahead.plan(parent_records)

    def pause(self) -> None:
        """The parent's sync ended: what was planned for its records is dropped."""
        if self._ahead is not None:
            self._ahead.pause()

    def stop(self) -> None:
        """Nothing more is sent ahead; the threads end."""
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None
            self.child.answers.children = None

    def _first_request(self, parent_record: dict[str, Any]) -> requests.PreparedRequest | None:
        """The first request of the child's sync for ``parent_record``, as that sync will
        prepare it, without touching what a sync in progress reads (its paginator and pages);
        None if the record lacks a placeholder's value (its own sync reports that, in order)
        or if the sample read it already."""
        child = self.child
        try:
            context = child.settings.parent_link.context(parent_record,
                                                         child.parent_stream.primary_keys)
        except ParentFieldError:
            return None
        bookmark = None
        if child.settings.incremental is not None:
            # The bookmark this parent's sync will start from, as that sync records it first
            # (the same value then: the parent's own bookmark changes only in its sync).
            bookmark = start_bookmark(child, context)
        window = None
        if child.windows is not None:  # a windowed child's sync begins with its first window
            windows = child.windows.plan(bookmark)
            if not windows:
                return None
            window = windows[0]
        first = build_paginator(child.settings.pagination, child.reader, child.logger,
                                frozenset())
        request = child.planner.http_request(context, first.current_value if first else None,
                                             first, bookmark, window)
        ready = prepared(child, request)
        return None if child.answers.was_sampled(ready) else ready
