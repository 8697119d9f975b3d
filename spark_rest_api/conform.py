"""Records held to their stream's schema in a Spark task, as the tap holds them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from rest_api_core.errors import ConnectorError
from tap_rest_api.streams import RestApiStream

logger = logging.getLogger("spark_rest_api.conform")


UNKNOWN_FIELDS = ("fail", "drop")
"""Option ``unknown_fields``: what a field outside an inferred schema does (default first)."""


class UnknownFieldError(ConnectorError):
    """A record brought a field the inferred schema does not have (Spark would drop it)."""


class Conformer:
    """One stream's records held to its declared schema (``StreamSchema.held_to_declared``, as
    the tap holds them);
    an inferred stream's records as they come.

    ``known`` (the read stream's Spark schema fields): a field outside it fails the task
    (``unknown_fields: fail``), or is reported once and left out (``drop``). The ancestors of
    a child stream, read only for their children, have no ``known`` fields and check nothing.
    """

    def __init__(self, stream: RestApiStream, known: Iterable[str] | None = None,
                 unknown_fields: str = UNKNOWN_FIELDS[0]) -> None:
        self.stream = stream
        self.known = None if known is None else frozenset(known)
        self.unknown_fields = unknown_fields
        self.reported: set[str] = set()

    def __call__(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``records`` (of this stream, read page by page) conformed one by one."""
        if not self.stream.schema_keeper.inferred:
            yield from self.stream.schema_keeper.held_to_declared(records)
            return
        for record in records:
            if self.known is not None and (unknown := record.keys() - self.known
                                           - self.reported):
                self._refuse(unknown)
                logger.warning("Stream '%s': field(s) %s not in the schema inferred from the "
                               "first page: left out (declare `schema` to keep them)",
                               self.stream.name, ", ".join(sorted(unknown)))
                self.reported |= unknown
            yield record

    def _refuse(self, fields: set[str]) -> None:
        if self.unknown_fields == "drop":
            return
        raise UnknownFieldError(
            f"field(s) {', '.join(map(repr, sorted(fields)))} not in the schema inferred "
            "from the first pages: declare the stream's `schema`, read more pages for it (option "
            "schema_sample_pages), or set unknown_fields: drop to leave such fields out")
