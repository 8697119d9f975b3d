"""Records held to their stream's schema in a Spark task, as the tap holds them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from tap_rest_api.streams import RestApiStream

logger = logging.getLogger("spark_rest_api.conform")


class Conformer:
    """One stream's records held to its declared schema (``StreamSchema.held_to_declared``, as
    the tap holds them);
    an inferred stream's records as they come.

    ``known`` (the read stream's Spark schema fields): fields outside it are reported once,
    since Spark leaves them out. The ancestors of a child stream, read only for their
    children, have no ``known`` fields and report nothing.
    """

    def __init__(self, stream: RestApiStream, known: Iterable[str] | None = None) -> None:
        self.stream = stream
        self.known = None if known is None else frozenset(known)
        self.reported: set[str] = set()

    def __call__(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``records`` (of this stream, read page by page) conformed one by one."""
        if not self.stream.schema_keeper.inferred:
            yield from self.stream.schema_keeper.held_to_declared(records)
            return
        for record in records:
            if self.known is not None and (unknown := record.keys() - self.known
                                           - self.reported):
                logger.warning("Stream '%s': field(s) %s not in the schema inferred from the "
                               "first page: left out (declare `schema` to keep them)",
                               self.stream.name, ", ".join(sorted(unknown)))
                self.reported |= unknown
            yield record
