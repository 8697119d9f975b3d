"""An inferred stream's schema on Spark, from its first pages rather than its first page alone.

Spark fixes a DataFrame's schema before any task runs, so fields first seen later cannot be
added as the tap adds them. The driver reads ``schema_sample_pages`` pages (the first one is
the tap's sample, read once) and infers from all their records, as the tap infers. A child
stream keeps the tap's inference (its first parent's first page).
"""

from __future__ import annotations

from typing import Any

from tap_rest_api.inference import InferredSchema
from tap_rest_api.streams import RestApiStream

DEFAULT_SAMPLE_PAGES = 5
"""Pages read on the driver for an inferred schema (option ``schema_sample_pages``)."""


def sampled_schema(stream: RestApiStream, pages: int) -> dict[str, Any]:
    """The stream's schema: declared as given; inferred from up to ``pages`` pages."""
    first = stream.schema
    if not stream.schema_keeper.inferred or pages < 2 or stream.parent_stream is not None:
        return first  # a child's pages belong to a parent: its first parent's first page
    inferred = InferredSchema()
    records: list[dict[str, Any]] = []
    seen: list[object] = []  # the pages the records came from (``last_page``, as the tap)
    for record in stream.request_records(None):
        if stream.reader.last_page is not (seen[-1] if seen else None):
            seen.append(stream.reader.last_page)
            if len(seen) > pages:
                break
        records.append(record)
    inferred.observe_page(records)
    schema = inferred.schema
    # the first page's schema also types a bookmark field none of these records has
    schema["properties"] = {**first["properties"], **schema["properties"]}
    return schema
