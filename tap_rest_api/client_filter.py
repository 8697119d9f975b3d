"""Client-side incremental, for APIs that cannot filter by the bookmark: records at or before
it are dropped here (``filter: client``), and a newest-first feed (``order: descending``) stops
paging after the first page that reaches the bookmark: everything after it is older."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tap_rest_api.bookmarks import BookmarkKeeper
    from tap_rest_api.streams import RestApiStream


def filters_records(stream: RestApiStream) -> bool:
    """The stream drops old records or stops at the bookmark itself."""
    incremental = stream.settings.incremental
    return incremental is not None and (incremental.filter == "client"
                                        or incremental.order == "descending")


class ClientFilter:
    """One sync's records held to the starting bookmark."""

    def __init__(self, stream: RestApiStream, keeper: BookmarkKeeper,
                 bookmark: datetime | None) -> None:
        self.stream = stream
        self.keeper = keeper
        self.bookmark = bookmark
        incremental = stream.settings.incremental
        self.newest_first = incremental.order == "descending"
        self.drops = incremental.filter == "client" or self.newest_first
        """A newest-first feed drops what it already has too: the last page's older part."""
        self.dropped = 0

    def records(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``records`` newer than the bookmark; a record that has no timestamp value is kept
        (nothing is dropped unseen)."""
        stopping = False
        for record in records:
            moment, _ = self.keeper.value_of(record)
            old = self.bookmark is not None and moment is not None and moment <= self.bookmark
            if old and self.newest_first and not stopping:
                stopping = True
                self._stop_paging()
            if old and self.drops:
                self.dropped += 1
                continue
            yield record
        if self.dropped:
            self.stream.logger.info(
                "Stream '%s': %d records at or before the bookmark dropped (client-side "
                "incremental)", self.stream.name, self.dropped)

    def _stop_paging(self) -> None:
        """This page is the last: the rest of the feed is older than the bookmark."""
        paginator = self.stream.paginator
        if paginator is not None:
            paginator.stop_after_this_page()
            self.stream.logger.info(
                "Stream '%s': page %d reaches the bookmark (incremental.order is descending): "
                "no further pages", self.stream.name, paginator.count + 1)
