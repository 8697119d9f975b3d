"""A stream's schema: declared, given by a catalog, or inferred from the first page and widened
as records come; and the stream's records held to it."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rest_api_core.errors import ConfigError
from tap_rest_api.csv_cells import empty_cells_as_null
from tap_rest_api.inference import InferredSchema
from tap_rest_api.schema import DeclaredRecords
from tap_rest_api.sdk_seam import catalog_schema, forget_mapping, held_schema, hold_schema, tap_of

if TYPE_CHECKING:
    from tap_rest_api.records import Page
    from tap_rest_api.settings import StreamSettings
    from tap_rest_api.streams import RestApiStream


def check_replication_key(settings: StreamSettings, declared: dict[str, Any] | None) -> None:
    """The bookmark's field (the first step of a dot path) is one of the declared schema
    when there is one."""
    key = settings.incremental.replication_key
    where = f"{settings.field_path}.incremental.replication_key"
    if declared is not None and key.split(".")[0] not in declared["properties"]:
        msg = f"{where}: {key.split('.')[0]!r} is not a field of the declared schema"
        raise ConfigError(msg)


class StreamSchema:
    """One stream's schema and its records' conformance to it."""

    def __init__(self, stream: RestApiStream) -> None:
        self.stream = stream
        self._sample: list[dict[str, Any]] | None = None
        self._declared_records: DeclaredRecords | None = None
        self._inferred: InferredSchema | None = None

    @property
    def inferred(self) -> bool:
        """True when the settings declare no schema."""
        return self.stream.settings.schema_fields is None

    def current(self) -> dict[str, Any]:
        """The declared schema, the catalog's, or one inferred from the first page on first use
        (that page is kept and serves as the sync's first page)."""
        schema = held_schema(self.stream)
        if schema is None:
            schema = catalog_schema(self.stream) or self._infer_from_first_page()
            hold_schema(self.stream, schema)
        return schema

    def adopt(self, schema: dict[str, Any]) -> None:
        """Use ``schema`` instead of inferring one (Spark infers once, on the driver, and its
        tasks read with that schema)."""
        hold_schema(self.stream, schema)

    def sample_records(self) -> list[dict[str, Any]]:
        """The records of the first page a sync reads, read ahead (to infer a schema); the
        sync gets the same response again instead of a second request.

        A child's are read for its parent's first sample record, with the included fields
        (none if the parent has none). A parent keeps its sample for its children.
        """
        if self._sample is not None:
            return self._sample
        stream = self.stream
        context = None
        if stream.parent_stream is not None:
            parents = stream.parent_stream.schema_keeper.sample_records()
            if not parents:
                return []
            context = stream.preprocess_context(dict(parents[0]))
        with stream.answers.reading_sample():
            records = stream.request_records(context)
            try:
                next(iter(records), None)
            finally:
                records.close()
        page = stream.reader.last_page.records if stream.reader.pages_read else []
        sample = [{**record, **stream.from_parent} for record in page]
        if stream.child_streams:
            self._sample = sample
        return sample

    def held_to_declared(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``records`` held to the declared schema (``DeclaredRecords``)."""
        stream = self.stream
        if self._declared_records is None:
            self._declared_records = DeclaredRecords(stream.name, stream.schema, stream.logger,
                                                     stream.primary_keys)
        if stream.settings.response.format == "csv":
            records = empty_cells_as_null(records, stream.schema)
        for record in records:
            yield self._declared_records.conform(record, stream.reader.pages_read)

    def conformed(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Records held to the declared schema, or widening the inferred one as they come.

        A child stream's records get the included parent fields first; its schema carries on
        from one parent's records to the next. An inferred schema checks each page as a whole
        first (``InferredSchema.covers``); only a page that widens it is fitted record by record,
        so the new SCHEMA comes right before the first record that needs it.
        """
        from_parent = self.stream.from_parent
        if not self.inferred:
            yield from self.held_to_declared(_with(records, from_parent))
            return
        checked: Page | None = None
        page_fits = False  # no record of the checked page widens the schema
        for record in records:
            page = self.stream.reader.last_page
            if page is not checked:
                checked = page
                if from_parent:
                    for each in page.records:
                        each.update(from_parent)
                # A streamed page is checked record by record past those read ahead.
                page_fits = self._page_fits(page) and page.streamed is None
            if from_parent and page.streamed is not None:
                record.update(from_parent)
            if not page_fits and self._inferred.fit(record):
                self._announce(self._inferred.schema)
            yield record

    def _page_fits(self, page: Page) -> bool:
        if self._inferred is None:
            self._inferred = InferredSchema()
            self._inferred.observe_page(page.records)
            if self._inferred.schema != self.stream.schema:
                self._announce(self._inferred.schema)
            return True
        return self._inferred.covers(page.records)

    def _infer_from_first_page(self) -> dict[str, Any]:
        inferred = InferredSchema()
        inferred.observe_page(self.sample_records())
        schema = inferred.schema
        incremental = self.stream.settings.incremental
        if incremental is not None and "." not in incremental.replication_key:
            # A bookmark field absent from the first page: any scalar fits until typed.
            schema["properties"].setdefault(
                incremental.replication_key, {"type": ["string", "integer", "number", "null"]})
        return schema

    def _announce(self, schema: dict[str, Any]) -> None:
        """Adopt a wider inferred schema and emit a SCHEMA message before the next record."""
        stream = self.stream
        hold_schema(stream, copy.deepcopy(schema))
        tap_of(stream).mapper.register_raw_stream_schema(stream.name, stream.schema,
                                                         stream.primary_keys)
        forget_mapping(stream)
        stream.record_writer.forget_mapping()
        stream.batch_path.schema_changed(stream.schema)
        stream.marks.schema_when_changed()


def _with(records: Iterable[dict[str, Any]], fields: dict[str, Any]
          ) -> Iterable[dict[str, Any]]:
    return records if not fields else _updated(records, fields)


def _updated(records: Iterable[dict[str, Any]], fields: dict[str, Any]
             ) -> Iterator[dict[str, Any]]:
    for record in records:
        record.update(fields)
        yield record
