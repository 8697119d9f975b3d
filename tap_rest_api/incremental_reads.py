"""The records of a stream whose bookmark the tap keeps itself (``BookmarkKeeper``): through
its windows (``WindowRun``) or its pages, held to the bookmark (``ClientFilter``), then the
bookmark once the sync read everything."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tap_rest_api.client_filter import ClientFilter, filters_records

if TYPE_CHECKING:
    from tap_rest_api.streams import RestApiStream


def incremental_records(stream: RestApiStream, context: dict | None) -> Iterable[dict[str, Any]]:
    """Every record the sync of ``context`` writes; plain pages for a stream whose bookmark
    the SDK keeps."""
    keeper = stream.bookmarks
    if keeper is None:
        return stream.request_records(context)
    return _kept(stream, context)


def _kept(stream: RestApiStream, context: dict | None) -> Iterator[dict[str, Any]]:
    keeper = stream.bookmarks
    start = keeper.start(context)
    if stream.windows is not None:
        records = stream.windows.records(context, keeper)
    else:
        records = stream.request_records(context)
    if filters_records(stream):
        records = ClientFilter(stream, keeper, start).records(records)
    yield from records
    keeper.complete(context)
