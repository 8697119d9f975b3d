"""The one stream class: any endpoint the settings describe, on the SDK's ``RESTStream``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, BatchFileFormat
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from rest_connector.auth import NoAuth, build_authenticator
from rest_connector.errors import ConfigError
from rest_connector.http import HttpClient, describe
from rest_connector.local_files import local_path
from rest_connector.retry import RetryPolicy
from rest_connector.stream_maps import passes_unchanged
from tap_rest_api.inference import InferredSchema
from tap_rest_api.pagination import GuardedPaginator, PageWindow, build_paginator
from tap_rest_api.records import Page, PageReader
from tap_rest_api.schema import DeclaredRecords, declared_schema
from tap_rest_api.settings import StreamSettings

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_rest_api.batch_files import ParquetBatchFiles


class RestApiStream(RESTStream):
    """Reads one endpoint: request, auth, rate limit, retries, pages, records, schema."""

    # Records are held to the SCHEMA by ``DeclaredRecords`` or ``InferredSchema`` on our own
    # per-record path, so the SDK's recursive conformance pass would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    url_base = ""
    payload_as_json = True

    def __init__(self, tap: Tap, settings: StreamSettings) -> None:
        self.settings = settings
        declared = None
        if settings.schema_fields is not None:
            declared = declared_schema(settings.schema_fields, f"{settings.field_path}.schema")
        super().__init__(
            tap=tap, name=settings.name, schema=declared, path=urlsplit(settings.url).path
        )
        self.primary_keys = list(settings.primary_keys)
        policy = RetryPolicy.from_settings(settings.rate_limit)
        auth = build_authenticator(settings.auth, settings.url, f"{settings.field_path}.auth",
                                   tokens=tap.oauth2_tokens, policy=policy,
                                   timeout=settings.timeout)
        self.http = HttpClient(
            settings.url,
            auth=auth,
            policy=policy,
            requests_per_second=(settings.rate_limit or {}).get("requests_per_second"),
            timeout=settings.timeout,
            max_response_bytes=settings.max_response_bytes,
        )
        self._requests_session = self.http.session
        self._auth = auth or NoAuth()
        self._reader = PageReader(self.name, settings.root_key, self.logger,
                                  settings.empty_on)
        self._paginator: GuardedPaginator | None = None
        self.page_window: PageWindow | None = None
        """Read only these pages (a Spark partition of an offset/page stream)."""
        self._deselection: bool | None = None
        self._prefetched: tuple[tuple[str | None, Any], requests.Response] | None = None
        self._batching = False
        self._batch_files: tuple[ParquetBatchFiles, BaseBatchFileEncoding] | None = None
        if settings.incremental is not None:
            self._check_replication_key(declared)
            self.replication_key = settings.incremental.replication_key

    def _check_replication_key(self, declared: dict[str, Any] | None) -> None:
        key = self.settings.incremental.replication_key
        where = f"{self.settings.field_path}.incremental.replication_key"
        if "." in key:
            msg = (f"{where}: {key!r} is a nested path; the bookmark must be a top-level record "
                   "field (the SDK's state keeps one value per top-level key)")
            raise ConfigError(msg)
        if declared is not None and key not in declared["properties"]:
            msg = f"{where}: {key!r} is not a field of the declared schema"
            raise ConfigError(msg)

    @property
    def is_sorted(self) -> bool:
        """Sorted streams advance the bookmark as they go; others only once complete."""
        return self.settings.incremental is not None and self.settings.incremental.sorted

    @property
    def schema_is_inferred(self) -> bool:
        """True when the settings declare no schema."""
        return self.settings.schema_fields is None

    @property
    def schema(self) -> dict[str, Any]:
        """The declared schema, the catalog's, or one inferred from the first page on first use.

        The first page read for inference is kept and serves as the sync's first page.
        """
        if self._schema is None:
            self._schema = self._input_schema or self._infer_from_first_page()
        return self._schema

    def adopt_schema(self, schema: dict[str, Any]) -> None:
        """Use ``schema`` instead of inferring one (Spark infers once, on the driver, and its
        tasks read with that schema)."""
        self._schema = schema

    def _infer_from_first_page(self) -> dict[str, Any]:
        records = self.request_records(None)
        try:
            next(iter(records), None)
        finally:
            records.close()
        inferred = InferredSchema()
        if self._reader.pages_read:
            inferred.observe_page(self._reader.last_page.records)
        schema = inferred.schema
        if self.settings.incremental is not None:
            # A bookmark field absent from the first page: any scalar fits until typed.
            schema["properties"].setdefault(
                self.settings.incremental.replication_key,
                {"type": ["string", "integer", "number", "null"]},
            )
        return schema

    # -- requests -------------------------------------------------------------------------

    @property
    def authenticator(self) -> Callable[[requests.PreparedRequest], requests.PreparedRequest]:
        """Credentials for the stream's origin only."""
        return self._auth

    @property
    def http_headers(self) -> dict[str, str]:
        """Configured headers (tap-level, then stream-level), JSON by default."""
        return {"Accept": "application/json", **(self.settings.headers or {})}

    @property
    def timeout(self) -> int:
        """The per-request deadline (enforced in full by the session)."""
        return int(self.settings.timeout) or 1

    def get_url(self, context: dict | None) -> str:
        """The endpoint's URL as configured."""
        return self.settings.url

    def get_new_paginator(self) -> GuardedPaginator | None:
        """A fresh paginator and page reader for one sync."""
        self._reader = PageReader(self.name, self.settings.root_key, self.logger,
                                  self.settings.empty_on)
        credential_params = getattr(self._auth, "param_names", frozenset())
        self._paginator = build_paginator(
            self.settings.pagination, self._reader, self.logger, credential_params,
            self.page_window,
        )
        return self._paginator

    @property
    def last_page(self) -> Page:
        """The page read most recently (Spark plans its partitions from the first one)."""
        return self._reader.last_page

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The request for one page: method, headers, params, body, then the page token."""
        request = HTTPRequest(
            url=self.settings.url,
            method=self.settings.method,
            headers=self.http_headers,
            params=dict(self.settings.params or {}),
            data=copy.deepcopy(self.settings.body),
        )
        self._add_bookmark(request, page.stream_context)
        if self._paginator is not None:
            self._paginator.update_request(request, page.next_page_token)
        return request

    def _add_bookmark(self, request: HTTPRequest, context: dict | None) -> None:
        incremental = self.settings.incremental
        if incremental is None:
            return
        value = None
        if self._schema is not None:  # no state is read while inferring the schema
            value = self.get_starting_replication_key_value(context)
        if value is None:
            value = incremental.start_value
        if value is None:
            return
        pagination = self.settings.pagination
        if pagination is not None and pagination.cursor_in == "body":
            request.data = {**(request.data or {}), incremental.param: value}
        else:
            request.params[incremental.param] = value

    def request_decorator(self, func: Callable) -> Callable:
        """Rate limit every try and retry transient failures with the shared policy.

        The page read to infer the schema is served again, once, to the identical request.
        """
        retrying = self.http.retrying(func)

        def send(prepared: requests.PreparedRequest, context: dict | None) -> requests.Response:
            key = (prepared.url, prepared.body)
            prefetched, self._prefetched = self._prefetched, None
            if prefetched is not None and prefetched[0] == key:
                return prefetched[1]
            self._tap.message_writer.flush()  # what was read goes out before we wait
            with self._tap.stop_gate.waiting():
                response = retrying(prepared, context)
            if self._schema is None:
                self._prefetched = (key, response)
            return response

        return send

    def validate_response(self, response: requests.Response) -> None:
        """Fail or retry on the status, then decode the body (an undecodable body is retried).

        A status in ``response.empty_on`` is an empty last page instead.
        """
        if response.status_code in self.settings.empty_on:
            self.logger.info("Stream '%s': HTTP %d for %s is in response.empty_on: 0 records "
                             "from this request", self.name, response.status_code,
                             describe(response))
        else:
            self.http.check(response)
        self._reader.read(response)

    # -- records --------------------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The records of the page (decoded once, in ``validate_response``)."""
        return self._reader.read(response).records

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        """Every record of the stream, then its completion mark (see ``_write_completion``);
        with batch files the mark follows the last file instead (see ``get_batches``)."""
        yield from self._conformed_records(context)
        if not self._batching:
            self._write_completion()

    def _conformed_records(self, context: dict | None) -> Iterator[dict[str, Any]]:
        """Records held to the declared schema, or widening the inferred one as they come."""
        if not self.schema_is_inferred:
            declared = DeclaredRecords(self.name, self.schema, self.logger, self.primary_keys)
            for record in self.request_records(context):
                yield declared.conform(record, self._reader.pages_read)
            return
        inferred: InferredSchema | None = None
        for record in self.request_records(context):
            if inferred is None:
                inferred = InferredSchema()
                inferred.observe_page(self._reader.last_page.records)
                if inferred.schema != self.schema:
                    self._announce_schema(inferred.schema)
            elif inferred.fit(record):
                self._announce_schema(inferred.schema)
            yield record

    # -- batch files ------------------------------------------------------------------------

    def get_batches(
        self, batch_config: BatchConfig, context: dict | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """BATCH messages (``batch_config``). Parquet files in a local folder carry the exact
        Arrow schema of the SCHEMA (``ParquetBatchFiles``) whenever records reach the target
        unchanged (no stream map or deselection alters them); the SDK's own files otherwise.
        A file is announced only once complete, and the completion mark follows the last one.
        """
        self._batching = True
        directory = local_path(batch_config.storage.root)
        if (batch_config.encoding.format != BatchFileFormat.PARQUET or directory is None
                or self._deselects_properties()
                or not passes_unchanged(self.stream_maps, self.name)):
            yield from super().get_batches(batch_config, context)
        else:
            # pyarrow is imported only here: RECORD-message runs start without it.
            from tap_rest_api.batch_files import ParquetBatchFiles

            files = ParquetBatchFiles(directory, batch_config.storage.prefix or "", self.name,
                                      self.schema, batch_config.batch_size)
            self._batch_files = (files, batch_config.encoding)
            try:
                for record in self._sync_records(context, write_messages=False):
                    if done := files.add(record):
                        yield batch_config.encoding, [done]
                if done := files.close():
                    yield batch_config.encoding, [done]
            except BaseException:
                files.discard()
                raise
            finally:
                self._batch_files = None
        self._write_completion()

    # -- completion -------------------------------------------------------------------------

    @property
    def emit_activate_version_messages(self) -> bool:
        """On unless the settings turn it off (the SDK's default is off)."""
        return bool(self.config.get("emit_activate_version_messages", True))

    def _write_completion(self) -> None:
        """After the last record of a full-table stream, ACTIVATE_VERSION again.

        The SDK writes the opening ACTIVATE_VERSION (before the records) but no closing one.
        The closing one is what tells a target the read completed: a table replacement is
        committed on it, so a tap that fails midway (no closing mark) replaces nothing.
        """
        if (
            self.selected
            and self.replication_method == REPLICATION_FULL_TABLE
            and self.emit_activate_version_messages
            and self._stream_version is not None
        ):
            self._write_activate_version_message(self._stream_version)

    # -- the per-record path ----------------------------------------------------------------

    def generate_child_contexts(
        self, record: dict[str, Any], context: dict | None
    ) -> Iterable[dict | None]:
        """No child streams: nothing to derive from each record."""
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[RecordMessage]:
        """The SDK's record step without its per-record costs we do not need.

        Records already match the SCHEMA (``DeclaredRecords``/``InferredSchema``), so there is
        no conformance pass; deselected properties are removed only when the catalog deselects
        any; ``time_extracted`` is the time the page was received.
        """
        if self._deselects_properties():
            pop_deselected_record_properties(record, self.schema, self.mask)
        extracted_at = self._reader.last_received_at
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias, record=mapped,
                    version=self._stream_version, time_extracted=extracted_at,
                )

    def _deselects_properties(self) -> bool:
        if self._deselection is None:
            self._deselection = any(not selected for crumb, selected in self.mask.items() if crumb)
        return self._deselection

    def _announce_schema(self, schema: dict[str, Any]) -> None:
        """Adopt a wider inferred schema and emit a SCHEMA message before the next record."""
        self._schema = copy.deepcopy(schema)
        self._tap.mapper.register_raw_stream_schema(self.name, self._schema, self.primary_keys)
        self._stream_maps = None
        if self._tap.input_catalog is None:
            self._metadata = None
            self._mask = None
        self._deselection = None
        if self._batch_files is not None:  # the rows so far keep the schema they were read with
            files, encoding = self._batch_files
            if done := files.change_schema(self._schema):
                self._write_batch_message(encoding, [done])
        self._write_schema_message()
