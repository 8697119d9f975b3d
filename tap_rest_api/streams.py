"""The one stream class: any endpoint the settings describe, on the SDK's ``RESTStream``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial, wraps
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, BatchFileFormat
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE, REPLICATION_INCREMENTAL
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from rest_api_core.auth import NoAuth, build_authenticator
from rest_api_core.errors import ConfigError
from rest_api_core.http import HttpClient, describe
from rest_api_core.local_files import local_path
from rest_api_core.retry import RetryPolicy
from rest_api_core.stream_maps import passes_unchanged
from tap_rest_api.children_ahead import ChildrenAhead, request_key
from tap_rest_api.inference import InferredSchema
from tap_rest_api.pages_ahead import Answer, PagesAhead
from tap_rest_api.pagination import (
    WINDOWED_TYPES,
    CountingPaginator,
    GuardedPaginator,
    PageWindow,
    build_paginator,
)
from tap_rest_api.parents import ParentFieldError, ParentLink
from tap_rest_api.records import Page, PageReader
from tap_rest_api.schema import DeclaredRecords, declared_schema
from tap_rest_api.settings import StreamSettings

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_rest_api.batch_files import ParquetBatchFiles


def _under_output_lock(method: Callable) -> Callable:
    """``method`` run while holding the tap's output lock (``BufferedMsgSpecWriter.lock``)."""

    @wraps(method)
    def locked(self: RestApiStream, *args: Any, **kwargs: Any) -> Any:
        with self._tap.message_writer.lock:
            return method(self, *args, **kwargs)

    return locked


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
                                   timeout=settings.timeout, transport=settings.transport)
        self.http = HttpClient(
            settings.url,
            limiters=tap.rate_limiters,
            auth=auth,
            policy=policy,
            requests_per_second=(settings.rate_limit or {}).get("requests_per_second"),
            timeout=settings.timeout,
            max_response_bytes=settings.max_response_bytes,
            connections=settings.concurrency,
            in_flight=tap.in_flight.for_stream(settings.name, settings.concurrency),
            transport=settings.transport,
        )
        self._requests_session = self.http.session
        self._auth = auth or NoAuth()
        self._reader = PageReader(self.name, settings.root_key, self.logger,
                                  settings.empty_on)
        self._paginator: GuardedPaginator | None = None
        self.page_window: PageWindow | None = None
        """Read only these pages (a Spark partition of an offset/page stream)."""
        self._deselection: bool | None = None
        self._unchanged: bool | None = None  # see _records_pass_unchanged
        self._prefetched: tuple[tuple[str | None, Any], requests.Response] | None = None
        self._reading_ahead = False
        self._sample: list[dict[str, Any]] | None = None
        self._declared_records: DeclaredRecords | None = None
        self._inferred: InferredSchema | None = None
        self._written_schema: dict[str, Any] | None = None
        self._opened = False
        self._finalizing = False
        self.declared_schema = declared
        self._batching = False
        self._batch_files: tuple[ParquetBatchFiles, BaseBatchFileEncoding] | None = None
        self.announced_bookmark: dict | None = None
        """While batch files are written: the stream's bookmark as of its last announced file
        (its live bookmark already covers records of the file being written)."""
        self._records_context: dict | None = None
        self._bookmarked: dict | None = None  # the record whose bookmark is already advanced
        self._incremental = False  # the records being synced advance a bookmark
        if settings.incremental is not None:
            self._check_replication_key(declared)
            self.replication_key = settings.incremental.replication_key
        self.link: ParentLink | None = settings.parent_link
        self.parent_stream: RestApiStream | None = None
        self._from_parent: dict[str, Any] = {}
        self._ahead: ChildrenAhead | None = None
        """A child's first requests for upcoming parent records (``concurrency`` above 1)."""
        self._context_only_fields: tuple[str, ...] = ()
        if self.link is not None:
            # Incremental children keep a bookmark per parent; others need no partitions.
            self.state_partitioning_keys = (
                self.link.placeholder_fields if settings.incremental is not None else ())
            self._context_only_fields = tuple(
                name for name in self.state_partitioning_keys
                if name not in self.link.included_fields)

    def attach_to(self, parent: RestApiStream) -> None:
        """Make this stream a child of ``parent``: synced once per parent record (the SDK's
        parent/child mechanism, wired here because every stream shares one class)."""
        self.parent_stream = parent
        self.parent_stream_type = type(parent)
        parent.child_streams.append(self)
        if self.declared_schema is None:
            return
        properties = self.declared_schema["properties"]
        for path, name in zip(self.link.included, self.link.included_fields, strict=True):
            if name not in properties:  # typed as the parent declares it (checked beforehand)
                properties[name] = copy.deepcopy(parent.declared_schema["properties"][path])

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
        inferred = InferredSchema()
        inferred.observe_page(self.sample_records())
        schema = inferred.schema
        if self.settings.incremental is not None:
            # A bookmark field absent from the first page: any scalar fits until typed.
            schema["properties"].setdefault(
                self.settings.incremental.replication_key,
                {"type": ["string", "integer", "number", "null"]},
            )
        return schema

    def sample_records(self) -> list[dict[str, Any]]:
        """The records of the first page a sync reads, read ahead (to infer a schema); the
        sync gets the same response again instead of a second request.

        A child's are read for its parent's first sample record, with the included fields
        (none if the parent has none). A parent keeps its sample for its children.
        """
        if self._sample is not None:
            return self._sample
        context = None
        if self.parent_stream is not None:
            parents = self.parent_stream.sample_records()
            if not parents:
                return []
            context = self.preprocess_context(dict(parents[0]))
        self._reading_ahead = True
        try:
            records = self.request_records(context)
            try:
                next(iter(records), None)
            finally:
                records.close()
        finally:
            self._reading_ahead = False
        page = self._reader.last_page.records if self._reader.pages_read else []
        sample = [{**record, **self._from_parent} for record in page]
        if self.child_streams:
            self._sample = sample
        return sample

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
        """The endpoint's URL as configured; a child's with the parent's values filled in."""
        if self.link is None or context is None:
            return self.settings.url
        return self.link.fill_url(self.settings.url, context)

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
        context = page.stream_context
        request = HTTPRequest(
            url=self.get_url(context),
            method=self.settings.method,
            headers=self.http_headers,
            params=dict(self.settings.params or {}),
            data=copy.deepcopy(self.settings.body),
        )
        if self.link is not None and context is not None:
            request.headers = self.link.fill_params(request.headers, context)
            request.params = self.link.fill_params(request.params, context)
            request.data = self.link.fill_body(request.data, context)
        self._add_bookmark(request, context)
        if self._paginator is not None:
            self._paginator.update_request(request, page.next_page_token)
        return request

    def _add_bookmark(self, request: HTTPRequest, context: dict | None) -> None:
        incremental = self.settings.incremental
        if incremental is None:
            return
        value = None
        if not self._reading_ahead:  # state is not loaded yet when the schema is inferred
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

        A request already answered is not sent again: the page read to infer the schema (once,
        to the identical request) and a child's first request sent ahead (``ChildrenAhead``).
        """
        retrying = self.http.retrying(func)

        def send(prepared: requests.PreparedRequest, context: dict | None) -> requests.Response:
            key = request_key(prepared)
            prefetched, self._prefetched = self._prefetched, None
            if prefetched is not None and prefetched[0] == key:
                return prefetched[1]
            with self._waiting_on_the_api():
                answer = self._ahead.take(prepared) if self._ahead is not None else None
                if answer is not None:
                    response, page = answer
                    self._reader.accept(response, page)
                else:
                    response = retrying(prepared, context)
            if self._reading_ahead:
                self._prefetched = (key, response)
            return response

        return send

    def validate_response(self, response: requests.Response) -> None:
        """Fail or retry on the status, then decode the body (an undecodable body is retried).

        A status in ``response.empty_on`` is an empty last page instead.
        """
        self._check_status(response)
        self._reader.read(response)

    def _check_status(self, response: requests.Response) -> None:
        if response.status_code in self.settings.empty_on:
            self.logger.info("Stream '%s': HTTP %d for %s is in response.empty_on: 0 records "
                             "from this request", self.name, response.status_code,
                             describe(response))
        else:
            self.http.check(response)

    # -- pages ahead (offset and page pagination with concurrency above 1) -----------------

    def request_records(self, context: dict | None) -> Iterable[dict]:
        """Every record of every page, in page order; pages ahead when ``concurrency`` allows
        (the first page alone, as when it is read to infer the schema or for a page window).
        A child's pages are read one after another: its concurrency goes to the first requests
        of upcoming parents instead (``ChildrenAhead``)."""
        pagination = self.settings.pagination
        if (self.settings.concurrency > 1 and pagination is not None
                and pagination.type in WINDOWED_TYPES and not self._reading_ahead
                and self.page_window is None and self.parent_stream is None):
            return self._request_pages_ahead(context)
        return super().request_records(context)

    def _request_pages_ahead(self, context: dict | None) -> Iterator[dict]:
        """The SDK's page loop, with each page taken from ``PagesAhead`` when it holds the
        paginator's next token, else requested as usual. The first page plans the rest; a
        page whose size contradicts the plan ends it: one request at a time from there on.
        Records are written by this (the main) thread only, in page order."""
        paginator = self.get_new_paginator()
        send = self.request_decorator(self._request)
        ahead: PagesAhead | None = None
        with self.get_http_request_counter() as request_counter:
            request_counter.with_context(context)
            try:
                while not paginator.finished:
                    answer = self._take_ahead(ahead, paginator.current_value) if ahead else None
                    if answer is not None:
                        prepared, response, page = answer
                        self._reader.accept(response, page)
                    else:
                        if ahead is not None:  # the plan no longer holds
                            self._stop_ahead(ahead)
                            ahead = None
                        prepared = self._prepare_request(context=context, page=paginator)
                        response = send(prepared, context)
                        page = self._reader.read(response)
                    request_counter.increment()
                    self.update_sync_costs(prepared, response, context)
                    if not page.records:
                        break  # as the SDK's loop: an empty page ends offset/page pagination
                    yield from page.records
                    paginator.advance(response)
                    if paginator.finished:
                        break
                    if page.number == 1:
                        ahead = self._start_ahead(paginator, page, context)
                    elif ahead is not None and len(page.records) != ahead.plan.size:
                        self._stop_ahead(ahead, page)
                        ahead = None
            except BaseException:
                if ahead is not None:
                    ahead.close(wait_for_flight=False)
                raise
            if ahead is not None:
                ahead.close(wait_for_flight=True)

    def _start_ahead(
        self, paginator: CountingPaginator, first: Page, context: dict | None
    ) -> PagesAhead | None:
        plan = paginator.plan_ahead(first)
        if plan is None:
            return None
        return PagesAhead(plan, self.settings.concurrency,
                          prepare=lambda token: self._prepare_page(context, token),
                          fetch=partial(self._fetch_ahead, self._reader, context),
                          name=f"{self.name}-pages")

    def _stop_ahead(self, ahead: PagesAhead, page: Page | None = None) -> None:
        """Fall back to one request at a time (the answers ahead are dropped, not used)."""
        if page is not None:
            self.logger.info(
                "Stream '%s': page %d has %d records where %d were expected (the data changed "
                "while reading?): reading one page at a time from here",
                self.name, page.number, len(page.records), ahead.plan.size)
        ahead.close(wait_for_flight=True)

    def _take_ahead(self, ahead: PagesAhead, token: Any) -> Answer | None:
        with self._waiting_on_the_api():
            return ahead.take(token)

    @contextmanager
    def _waiting_on_the_api(self) -> Iterator[None]:
        """A wait for an answer: what was read goes out first, and a stop may end the wait."""
        self._tap.message_writer.flush()
        with self._tap.stop_gate.waiting():
            yield

    def _prepare_page(self, context: dict | None, token: Any) -> requests.PreparedRequest:
        """The request for the page at ``token``, as the SDK's loop prepares it (its private
        ``_prepare_request`` reads only ``current_value`` from the paginator it is given)."""
        return self._prepare_request(context=context, page=SimpleNamespace(current_value=token))

    def _fetch_ahead(
        self, reader: PageReader, context: dict | None, prepared: requests.PreparedRequest,
        number: int,
    ) -> tuple[requests.Response, Page]:
        """One page read ahead, in a worker thread: rate limit, retries, status, decoding
        (an undecodable body is retried); nothing of the stream is changed. Each try logs
        the SDK's request metric, as its ``_request`` does (the pipeline counts pages by it)."""

        def once() -> tuple[requests.Response, Page]:
            response = self.requests_session.send(
                self.authenticator(prepared), timeout=self.timeout,
                allow_redirects=self.allow_redirects)
            self._write_request_duration_log(
                endpoint=self.path, response=response, context=context,
                extra_tags={"url": prepared.path_url} if self._LOG_REQUEST_METRIC_URLS else None)
            self._check_status(response)
            return response, reader.decode(response, number)

        return self.http.retrying(once)()

    # -- children of upcoming parents (a child with concurrency above 1) ---------------------

    def _requested_records(self, context: dict | None) -> Iterable[dict]:
        """``request_records``; a parent of children with ``concurrency`` above 1 plans each new
        page's records for them, so their first requests go out ahead (``ChildrenAhead``)."""
        ahead = [child for child in self.child_streams if child.settings.concurrency > 1
                 and (child.selected or child.has_selected_descendents)]
        if not ahead:
            return self.request_records(context)
        return self._planning_children(context, ahead)

    def _planning_children(self, context: dict | None,
                           ahead: list[RestApiStream]) -> Iterator[dict]:
        planned: Page | None = None
        try:
            for record in self.request_records(context):
                page = self._reader.last_page
                if page is not planned:
                    planned = page
                    records = [{**each, **self._from_parent} for each in page.records]
                    for child in ahead:
                        child.plan_ahead(records)
                yield record
        finally:
            for child in ahead:
                child.stop_ahead()

    def plan_ahead(self, parent_records: list[dict[str, Any]]) -> None:
        """Send this child's first request for each of ``parent_records`` ahead, up to its
        ``concurrency`` at once (called by the parent, between two of this child's syncs)."""
        if self._ahead is None:
            reader = PageReader(self.name, self.settings.root_key, self.logger,
                                self.settings.empty_on)  # decodes only: safe in the workers
            self._ahead = ChildrenAhead(self.settings.concurrency, self._prepare_first_request,
                                        partial(self._fetch_ahead, reader, None, number=1),
                                        name=f"{self.name}-ahead")
        self._ahead.plan(parent_records)

    def stop_ahead(self) -> None:
        """The parent's sync ended (or failed): nothing more is sent ahead."""
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None

    def _prepare_first_request(self, parent_record: dict[str, Any]
                               ) -> requests.PreparedRequest | None:
        """The first request of this child's sync for ``parent_record``, as that sync will
        prepare it, without touching what a sync in progress reads (its paginator and pages);
        None if the record lacks a placeholder's value (its own sync reports that, in order)."""
        try:
            context = self.link.context(parent_record, self.parent_stream.primary_keys)
        except ParentFieldError:
            return None
        if self._paginator is None:  # before this child's first sync only: nobody reads it yet
            self.get_new_paginator()
        if self.settings.incremental is not None:
            # The bookmark this parent's sync will start from, as that sync records it first
            # (the same value then: the parent's own bookmark changes only in its sync).
            self._write_starting_replication_value(context)
        first = build_paginator(self.settings.pagination, self._reader, self.logger, frozenset())
        # Also while the schema's sample is read: the sync has begun, so the state is loaded.
        reading_ahead, self._reading_ahead = self._reading_ahead, False
        try:
            prepared = self._prepare_page(context, first.current_value if first else None)
        finally:
            self._reading_ahead = reading_ahead
        if self._prefetched is not None and self._prefetched[0] == request_key(prepared):
            return None  # read already, to infer the schema
        return prepared

    # -- records --------------------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The records of the page (decoded once, in ``validate_response``)."""
        return self._reader.read(response).records

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        """Every record of the stream, then its completion mark (see ``_write_completion``);
        with batch files the mark follows the last file instead (see ``get_batches``).

        A child stream is read once per parent record: its completion comes with its
        root's, after the last parent's children.
        """
        self._records_context = context  # what the SDK bookmarks these records under
        self._incremental = self.replication_method == REPLICATION_INCREMENTAL
        yield from self._conformed_records(context)
        if not self._batching and self.parent_stream is None:
            self._write_completion()

    def _conformed_records(self, context: dict | None) -> Iterator[dict[str, Any]]:
        """Records held to the declared schema, or widening the inferred one as they come.

        A child stream's records get the included parent fields first; its schema carries on
        from one parent's records to the next. An inferred schema checks each page as a whole
        first (``InferredSchema.covers``); only a page that widens it is fitted record by record,
        so the new SCHEMA comes right before the first record that needs it.
        """
        from_parent = self._from_parent
        if not self.schema_is_inferred:
            if self._declared_records is None:
                self._declared_records = DeclaredRecords(
                    self.name, self.schema, self.logger, self.primary_keys)
            for record in self._requested_records(context):
                if from_parent:
                    record.update(from_parent)
                yield self._declared_records.conform(record, self._reader.pages_read)
            return
        checked: Page | None = None
        page_fits = False  # no record of the checked page widens the schema
        for record in self._requested_records(context):
            page = self._reader.last_page
            if page is not checked:
                checked = page
                if from_parent:
                    for each in page.records:
                        each.update(from_parent)
                if self._inferred is None:
                    self._inferred = InferredSchema()
                    self._inferred.observe_page(page.records)
                    if self._inferred.schema != self.schema:
                        self._announce_schema(self._inferred.schema)
                    page_fits = True
                else:
                    page_fits = self._inferred.covers(page.records)
            if not page_fits and self._inferred.fit(record):
                self._announce_schema(self._inferred.schema)
            yield record

    # -- parent and child streams -----------------------------------------------------------

    def preprocess_context(self, context: dict) -> dict:
        """A child's context for one parent record (the SDK passes the record itself): the
        placeholder values. The included fields are kept aside for this sync's records, so
        an incremental child's context is exactly its state partition."""
        parent = self.parent_stream
        self._from_parent = self.link.included_values(context)
        return self.link.context(context, parent.primary_keys if parent else ())

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
        with self._tap.message_writer.lock:
            self.announced_bookmark = copy.deepcopy(self.stream_state)
        for encoding, manifest in self._written_batches(batch_config, context):
            with self._tap.message_writer.lock:  # held while the SDK writes BATCH, then STATE
                self.announced_bookmark = copy.deepcopy(self.stream_state)
                yield encoding, manifest
        self.announced_bookmark = None
        self._write_completion()

    def _written_batches(
        self, batch_config: BatchConfig, context: dict | None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        directory = local_path(batch_config.storage.root)
        if (batch_config.encoding.format != BatchFileFormat.PARQUET or directory is None
                or self._deselects_properties() or not self._records_pass_unchanged()):
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

    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """No batch files for a child stream: they are cut per ``sync``, which for a child is
        per parent record (thousands of small files); its records go as RECORD messages."""
        return None if self.parent_stream is not None else super().get_batch_config(config)

    # -- completion -------------------------------------------------------------------------

    @property
    def emit_activate_version_messages(self) -> bool:
        """On unless the settings turn it off (the SDK's default is off).

        Off for a child of an incremental stream (at any level): it is read only for the parent
        records of this run, so its read is never the whole table.
        """
        parent = self.parent_stream
        while parent is not None:
            if parent.replication_method != REPLICATION_FULL_TABLE:
                return False
            parent = parent.parent_stream
        return bool(self.config.get("emit_activate_version_messages", True))

    def _write_completion(self) -> None:
        """After the last record of a full-table stream, ACTIVATE_VERSION again; then the same
        for its descendants, read once per parent record, which complete with it.

        The SDK writes the opening ACTIVATE_VERSION (before the records) but no closing one.
        The closing one is what tells a target the read completed: a table replacement is
        committed on it, so a tap that fails midway (no closing mark) replaces nothing.
        """
        for stream in (self, *self.descendent_streams):
            if (
                stream.selected
                and stream.replication_method == REPLICATION_FULL_TABLE
                and stream.emit_activate_version_messages
                and (stream._stream_version is not None or stream is not self)
            ):
                stream._write_closing_mark()

    def _write_closing_mark(self) -> None:
        if self._stream_version is None:
            # A child without parent records this run: its read is complete, and empty.
            self._write_schema_message()
            self._stream_version = self._initialized_at // 1000  # as the SDK's ``sync`` does
            self._write_activate_version_message(self._stream_version)
        super()._write_activate_version_message(self._stream_version)

    # -- what the SDK writes at every sync (private hooks): a child's sync is per parent record --

    def _write_activate_version_message(self, full_table_version: int) -> None:
        """The opening mark, once per run: the SDK writes it at every ``sync``, which for a
        child stream is once per parent record (the closing one: ``_write_closing_mark``)."""
        if not self._opened:
            self._opened = True
            super()._write_activate_version_message(full_table_version)

    def _write_schema_message(self) -> None:
        """SCHEMA when it changed: the SDK writes it at every ``sync``, which for a child is
        once per parent record."""
        if self._written_schema != self.schema:
            self._written_schema = copy.deepcopy(self.schema)
            super()._write_schema_message()

    def _write_state_message(self) -> None:
        """STATE; a child stream writes its own only at the end of the run.

        The SDK writes it after each ``sync``, for a child once per parent record, and each
        STATE carries every parent's bookmark: the output would grow with the square of the
        parents. Meanwhile the root's STATE messages carry the children's bookmarks (the tap's
        state is one document), written once every child record before them is out.
        """
        if self.parent_stream is None or self._finalizing:
            with self._tap.message_writer.lock:
                if not self.state_manager.is_flushed:
                    _ = self.stream_state  # as the SDK's: the stream's entry exists
                    self._tap.state_writer.write_state(self._tap.published_state())
                    self.state_manager.is_flushed = True

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """At the end of the run, with the STATE that follows always written."""
        self._finalizing = True
        with self._tap.message_writer.lock:
            super().finalize_state_progress_markers(state)

    # Streams synced side by side share one state document (the SDK's tap state): each changes
    # its own part under the output lock, so no STATE written by another thread serializes a
    # half-updated bookmark (or a dict changing size mid-copy). Private SDK hooks, see above.
    _finalize_state = _under_output_lock(RESTStream._finalize_state)
    _write_starting_replication_value = _under_output_lock(
        RESTStream._write_starting_replication_value)
    _write_replication_key_signpost = _under_output_lock(
        RESTStream._write_replication_key_signpost)
    get_context_state = _under_output_lock(RESTStream.get_context_state)
    get_starting_replication_key_value = _under_output_lock(
        RESTStream.get_starting_replication_key_value)
    stream_state = property(_under_output_lock(RESTStream.stream_state.fget))

    # -- the per-record path ----------------------------------------------------------------

    def generate_child_contexts(
        self, record: dict[str, Any], context: dict | None
    ) -> Iterable[dict | None]:
        """The record itself, from which each child takes what it needs; nothing for a stream
        without children (the common case: no per-record work)."""
        if self.child_streams:
            yield record

    def _write_record_message(self, record: dict[str, Any]) -> None:
        """The SDK's record step; when the stream maps pass records unchanged (the common
        case), the RECORD line is encoded straight from the record, with no message object
        (``BufferedMsgSpecWriter.write_record``: the same bytes).

        The record's bookmark is advanced in the same step, under the output lock (the SDK
        does it right after, see ``_increment_stream_state``): a STATE written meanwhile by
        another thread, or the final one of a stopped run, covers exactly the records out.
        """
        with self._tap.message_writer.lock:
            if self._records_pass_unchanged():
                self._trim(record)
                self._tap.message_writer.write_record(
                    self.name, record, self._stream_version, self._reader.last_received_at)
                self.state_manager.is_flushed = False  # as the SDK's step: a STATE is due
            else:
                super()._write_record_message(record)
            if self._incremental:
                RESTStream._increment_stream_state(self, record, context=self._records_context)
            self._bookmarked = record

    def _increment_stream_state(self, latest_record: dict[str, Any], *,
                                context: dict | None = None) -> None:
        """The SDK's bookmark step, under the output lock; done already for a record that
        ``_write_record_message`` wrote."""
        if latest_record is self._bookmarked:
            self._bookmarked = None
        elif self._incremental:  # (the SDK's step does nothing for a full-table stream)
            with self._tap.message_writer.lock:
                RESTStream._increment_stream_state(self, latest_record, context=context)

    def _process_record(self, record: dict[str, Any], child_context: dict | None = None,
                        partition_context: dict | None = None) -> None:
        """The SDK's step that copies the state partition's keys into the record and syncs the
        children: nothing to do, per record, for a stream with neither (the common case)."""
        if self.child_streams or partition_context:
            super()._process_record(record, child_context=child_context,
                                    partition_context=partition_context)

    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[RecordMessage]:
        """The SDK's record step through stream maps, without its per-record costs we do not
        need: ``_trim`` instead of a conformance pass, ``time_extracted`` is the time the page
        was received."""
        self._trim(record)
        extracted_at = self._reader.last_received_at
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias, record=mapped,
                    version=self._stream_version, time_extracted=extracted_at,
                )

    def _trim(self, record: dict[str, Any]) -> None:
        """Records already match the SCHEMA (``DeclaredRecords``/``InferredSchema``); only
        fields the SDK added and properties the catalog deselects are removed."""
        for name in self._context_only_fields:
            # The SDK copies an incremental child's partition (its placeholder values) into
            # each record; only ``include_from_parent`` fields belong there.
            if name not in self.schema["properties"]:
                record.pop(name, None)
        if self._deselects_properties():
            pop_deselected_record_properties(record, self.schema, self.mask)

    def _records_pass_unchanged(self) -> bool:
        if self._unchanged is None:
            self._unchanged = passes_unchanged(self.stream_maps, self.name)
        return self._unchanged

    def _deselects_properties(self) -> bool:
        if self._deselection is None:
            self._deselection = any(not selected for crumb, selected in self.mask.items() if crumb)
        return self._deselection

    def _announce_schema(self, schema: dict[str, Any]) -> None:
        """Adopt a wider inferred schema and emit a SCHEMA message before the next record."""
        self._schema = copy.deepcopy(schema)
        self._tap.mapper.register_raw_stream_schema(self.name, self._schema, self.primary_keys)
        self._stream_maps = None
        self._unchanged = None
        if self._tap.input_catalog is None:
            self._metadata = None
            self._mask = None
        self._deselection = None
        if self._batch_files is not None:  # the rows so far keep the schema they were read with
            files, encoding = self._batch_files
            if done := files.change_schema(self._schema):
                with self._tap.message_writer.lock:
                    self._write_batch_message(encoding, [done])
                    self.announced_bookmark = copy.deepcopy(self.stream_state)
        self._write_schema_message()
