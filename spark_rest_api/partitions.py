"""How a stream is split into Spark partitions, decided on the driver before any task runs.

=====================================================  =====================================
Stream                                                 Partitions
=====================================================  =====================================
``offset``/``page`` pagination with ``total_field``    page ranges: the first page (read once
                                                       here) fixes the page size and total
any other pagination, or none                          one partition for the stream
=====================================================  =====================================

Parent→child streams will add a third kind: the parent's records split into slices, each
partition reading the children of its slice (``WholeStream`` per parent for child streams
with cursor or link pagination).

``requests_per_second`` is a limit per process; executors share no limiter, so each
partition gets the stream's rate divided by the number of partitions that run at once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from pyspark.sql.datasource import InputPartition

from tap_rest_api.pagination import WINDOWED_TYPES, PageWindow
from tap_rest_api.records import dig
from tap_rest_api.streams import RestApiStream

logger = logging.getLogger("spark_rest_api.partitions")


@dataclass(frozen=True)
class WholeStream(InputPartition):
    """Read the stream from its first page to its last, as the tap does."""

    index: int
    requests_per_second: float | None

    @property
    def window(self) -> PageWindow | None:
        """No window: every page."""
        return None


@dataclass(frozen=True)
class PageRange(InputPartition):
    """Read ``pages`` pages from offset or page number ``first``."""

    index: int
    requests_per_second: float | None
    first: int
    pages: int

    @property
    def window(self) -> PageWindow:
        """The pages of this partition, for the stream's paginator."""
        return PageWindow(self.first, self.pages)


StreamPartition = WholeStream | PageRange


def share(requests_per_second: float | None, partitions: int, parallelism: int
          ) -> float | None:
    """Each partition's share of the rate: divided among the partitions running at once."""
    if not requests_per_second:
        return None
    return requests_per_second / max(1, min(partitions, parallelism))


def spread(pages: int, parts: int) -> list[tuple[int, int]]:
    """``(first page index, page count)`` of ``parts`` contiguous, near-equal page ranges."""
    base, extra = divmod(pages, parts)
    ranges, start = [], 0
    for part in range(parts):
        count = base + (1 if part < extra else 0)
        ranges.append((start, count))
        start += count
    return ranges


def plan(stream: RestApiStream, wanted: int, parallelism: int) -> list[StreamPartition]:
    """The partitions of ``stream``: at most ``wanted``, sized for ``parallelism`` at once."""
    rate = (stream.settings.rate_limit or {}).get("requests_per_second")
    pagination = stream.settings.pagination
    if (wanted == 1 or pagination is None or pagination.type not in WINDOWED_TYPES
            or not pagination.total_field):
        return [WholeStream(0, rate)]
    first = pagination.start if pagination.type == "offset" else pagination.start_page
    stream.page_window = PageWindow(first, 1)
    size = sum(1 for _ in stream.request_records(None))
    total = dig(stream.last_page.body, pagination.total_field)
    stream.page_window = None
    if size == 0 or not isinstance(total, int) or isinstance(total, bool):
        logger.warning("Stream '%s': the first page has %s records and total_field '%s' = %r; "
                       "reading it in one partition", stream.name, size,
                       pagination.total_field, total)
        return [WholeStream(0, rate)]
    remaining = total - (pagination.start if pagination.type == "offset" else 0)
    pages = max(1, math.ceil(remaining / size))
    if pagination.max_pages and pages > pagination.max_pages:
        logger.warning("Stream '%s': stopped at pagination.max_pages = %d; the API has more "
                       "pages", stream.name, pagination.max_pages)
        pages = pagination.max_pages
    parts = min(wanted, pages)
    step = size if pagination.type == "offset" else 1
    each = share(rate, parts, parallelism)
    return [PageRange(index, each, first + start * step, count)
            for index, (start, count) in enumerate(spread(pages, parts))]
