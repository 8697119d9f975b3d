"""How a stream is split into Spark partitions, decided on the driver before any task runs.

=====================================================  =====================================
Stream                                                 Partitions
=====================================================  =====================================
``offset``/``page`` pagination with ``total_field``    page ranges: the first page (read once
                                                       here) fixes the page size and total
a child (``parent``), at any depth                     parent slices: the root's records (read
                                                       once here) split into contiguous slices,
                                                       each child read whole per parent
``incremental.window``                                 window slices: the windows from
                                                       the bookmark (else ``start_value``) to
                                                       ``end_value`` (or now), N windows over
                                                       P partitions
any other pagination, or none                          one partition for the stream
=====================================================  =====================================

``requests_per_second`` is a limit per process; executors share no limiter, so each
partition gets the stream's rate divided by the number of partitions that run at once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from pyspark.sql.datasource import InputPartition

from rest_api_core.dot_paths import dig
from spark_rest_api.children import ParentValues, lineage, root_values
from tap_rest_api.pagination import WINDOWED_TYPES, PageWindow
from tap_rest_api.streams import RestApiStream
from tap_rest_api.windows import Window

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

    @property
    def ancestor_rates(self) -> tuple[tuple[str, float | None], ...]:
        """No ancestors: a stream without parent."""
        return ()


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

    @property
    def ancestor_rates(self) -> tuple[tuple[str, float | None], ...]:
        """No ancestors: a stream without parent."""
        return ()


@dataclass(frozen=True)
class ParentSlice(InputPartition):
    """Read the child stream for each parent of a contiguous slice of the root's records.

    ``parents``: what the first stream of the child's lineage takes from each root record.
    ``ancestor_rates``: the rate shares of the intermediate streams a grandchild's task reads.
    """

    index: int
    requests_per_second: float | None
    parents: tuple[ParentValues, ...]
    ancestor_rates: tuple[tuple[str, float | None], ...] = ()

    @property
    def window(self) -> PageWindow | None:
        """No window: every page of each parent's children."""
        return None


@dataclass(frozen=True)
class WindowSlice(WholeStream):
    """Read a contiguous run of a windowed stream's windows, each with its full pagination
    (fixed on the driver: every task reads the same plan, whatever its clock says); no page
    window, no ancestors, as a whole stream."""

    windows: tuple[Window, ...]


StreamPartition = WholeStream | PageRange | ParentSlice | WindowSlice


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


def _rate(stream: RestApiStream) -> float | None:
    return (stream.settings.rate_limit or {}).get("requests_per_second")


def plan_children(stream: RestApiStream, wanted: int, parallelism: int) -> list[ParentSlice]:
    """Parent slices of a child stream: at most ``wanted``, at least one (maybe empty)."""
    parents = root_values(stream)
    parts = max(1, min(wanted, len(parents)))
    *ancestors, _ = lineage(stream)
    ancestor_rates = tuple((a.name, share(_rate(a), parts, parallelism)) for a in ancestors)
    each = share(_rate(stream), parts, parallelism)
    return [ParentSlice(index, each, tuple(parents[start:start + count]), ancestor_rates)
            for index, (start, count) in enumerate(spread(len(parents), parts))]


def plan_windows(stream: RestApiStream, wanted: int, parallelism: int) -> list[WindowSlice]:
    """Window slices of a windowed stream, planned as the tap plans its sync: from the
    bookmark of the read's ``state`` (minus ``lookback``), else from ``start_value``; at most
    ``wanted``, at least one (maybe empty)."""
    windows = stream.windows.plan(stream.get_starting_replication_key_value(None))
    parts = max(1, min(wanted, len(windows)))
    each = share(_rate(stream), parts, parallelism)
    return [WindowSlice(index, each, tuple(windows[start:start + count]))
            for index, (start, count) in enumerate(spread(len(windows), parts))]


def plan(stream: RestApiStream, wanted: int, parallelism: int) -> list[StreamPartition]:
    """The partitions of ``stream``: at most ``wanted``, sized for ``parallelism`` at once."""
    if stream.parent_stream is not None:
        return plan_children(stream, wanted, parallelism)
    if stream.windows is not None:
        return plan_windows(stream, wanted, parallelism)
    rate = _rate(stream)
    pagination = stream.settings.pagination
    if (wanted == 1 or pagination is None or pagination.type not in WINDOWED_TYPES
            or not pagination.total_field):
        return [WholeStream(0, rate)]
    first = pagination.start if pagination.type == "offset" else pagination.start_page
    stream.page_window = PageWindow(first, 1)
    size = sum(1 for _ in stream.request_records(None))
    total = dig(stream.reader.last_page.body, pagination.total_field)
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
