"""The one stream class: any endpoint the settings describe, on the SDK's ``RESTStream``.

The class wires named collaborators, one per concern:

- ``planner`` (``RequestPlanner``): each page's request from the settings;
- ``answers`` (``AnswerSources``): the sample's page, children's requests sent ahead, or a
  live request; ``PageLoop`` reads offset/page pages ahead with ``concurrency`` above 1;
- ``reader`` (``PageReader``) and the paginator: a response's records, and the next page;
- ``schema_keeper`` (``StreamSchema``): declared or inferred schema, records held to it;
- ``record_writer`` (``RecordWriter``): RECORD lines with their bookmark;
- ``batch_path`` (``BatchPath``): Parquet batch files instead of lines;
- ``marks`` (``CompletionMarks``): ACTIVATE_VERSION, SCHEMA and STATE once per run;
- ``children_ahead`` (``ChildPlanner``): a child's first requests for upcoming parents;
- ``bookmarks`` (``BookmarkKeeper``) and ``windows`` (``WindowRun``): a bookmark the tap keeps
  itself (windows, client-side filtering, a stated order, a nested replication key).

Private SDK hooks are all in ``sdk_seam.SeamStream``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams.rest import HTTPRequest, PageContext

from rest_api_core.auth import NoAuth, build_authenticator
from rest_api_core.http import HttpClient
from rest_api_core.response_rules import ResponseRules
from rest_api_core.retry import RetryPolicy
from tap_rest_api.answers import AnswerSources
from tap_rest_api.batch_path import Batch, BatchPath
from tap_rest_api.bookmarks import BookmarkKeeper
from tap_rest_api.child_planning import ChildPlanner, stop_reading_ahead, with_children_ahead
from tap_rest_api.completion import CompletionMarks
from tap_rest_api.incremental_reads import incremental_records
from tap_rest_api.page_loop import PageLoop, reads_pages_ahead
from tap_rest_api.pagination import GuardedPaginator, PageWindow, build_paginator
from tap_rest_api.record_writer import RecordWriter
from tap_rest_api.records import PageReader
from tap_rest_api.report_job import ReportJob
from tap_rest_api.request_plan import RequestPlanner, prepared
from tap_rest_api.schema import declared_schema
from tap_rest_api.sdk_seam import BatchConfig, SeamStream, use_session
from tap_rest_api.settings import StreamSettings
from tap_rest_api.stream_schema import StreamSchema, check_replication_key
from tap_rest_api.window_run import WindowRun

if TYPE_CHECKING:
    from singer_sdk import Tap


class RestApiStream(SeamStream):
    """Reads one endpoint: request, auth, rate limit, retries, pages, records, schema."""

    # Records are held to the SCHEMA by ``DeclaredRecords`` or ``InferredSchema`` on our own
    # per-record path, so the SDK's recursive conformance pass would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    url_base = ""
    payload_as_json = True

    def __init__(self, tap: Tap, settings: StreamSettings) -> None:
        self.settings = settings
        self.schema_keeper = StreamSchema(self)
        self.declared_schema = None
        if settings.schema_fields is not None:
            self.declared_schema = declared_schema(settings.schema_fields,
                                                   f"{settings.field_path}.schema")
        super().__init__(tap=tap, name=settings.name, schema=self.declared_schema,
                         path=urlsplit(settings.url).path)
        self.primary_keys = list(settings.primary_keys)
        self.link = settings.parent_link
        self.parent_stream: RestApiStream | None = None
        self.from_parent: dict[str, Any] = {}
        """The included parent fields of the current sync (a child's, per parent record)."""
        if settings.incremental is not None:
            check_replication_key(settings, self.declared_schema)
            self.replication_key = settings.incremental.replication_key
        if self.link is not None:
            # Incremental children keep a bookmark per parent; others need no partitions.
            self.state_partitioning_keys = (
                self.link.placeholder_fields if settings.incremental is not None else ())
        self.auth = self._build_http(tap)
        self.page_window: PageWindow | None = None
        """Read only these pages (a Spark partition of an offset/page stream)."""
        self.paginator: GuardedPaginator | None = None
        self.reader = PageReader.for_stream(settings, self.logger)
        self.planner = RequestPlanner(settings)
        self.answers = AnswerSources(self)
        self.record_writer = RecordWriter(self)
        self.batch_path = BatchPath(self)
        self.marks = CompletionMarks(self)
        self.children_ahead = ChildPlanner(self)
        incremental = settings.incremental
        owned = incremental is not None and incremental.owns_bookmark
        self.bookmarks = BookmarkKeeper(self, incremental) if owned else None
        self.windows = WindowRun(self, incremental) if owned and incremental.window else None

    def _build_http(self, tap: Tap) -> Callable[[requests.PreparedRequest],
                                                 requests.PreparedRequest]:
        """The HTTP client with the stream's auth, retry policy, rate limit and request slots;
        the SDK's own requests go through its session. Returns the authenticator."""
        settings = self.settings
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
            rules=ResponseRules(settings.response_rules),
        )
        use_session(self, self.http.session)
        return auth or NoAuth()

    @property
    def is_sorted(self) -> bool:
        """Sorted streams advance the bookmark as they go; others only once complete."""
        return self.settings.incremental is not None and self.settings.incremental.sorted

    @property
    def is_timestamp_replication_key(self) -> bool:
        """A bookmark the tap keeps itself is compared as instants by ``BookmarkKeeper``;
        the SDK's timestamp handling (start date, signpost) stays out of it."""
        return self.bookmarks is None and super().is_timestamp_replication_key

    @property
    def schema(self) -> dict[str, Any]:
        """See ``StreamSchema.current``."""
        return self.schema_keeper.current()

    @property
    def emit_activate_version_messages(self) -> bool:
        """See ``CompletionMarks.emitting``."""
        return self.marks.emitting()

    # -- requests -------------------------------------------------------------------------

    @property
    def authenticator(self) -> Callable[[requests.PreparedRequest], requests.PreparedRequest]:
        """Credentials for the stream's origin only."""
        return self.auth

    @property
    def http_headers(self) -> dict[str, str]:
        """Configured headers (tap-level, then stream-level); see ``RequestPlanner.headers``."""
        return self.planner.headers

    @property
    def timeout(self) -> int:
        """The per-request deadline (enforced in full by the session)."""
        return int(self.settings.timeout) or 1

    def get_url(self, context: dict | None) -> str:
        """The endpoint's URL as configured; a child's with the parent's values filled in."""
        return self.planner.url(context)

    def get_new_paginator(self) -> GuardedPaginator | None:
        """A fresh paginator and page reader for one sync."""
        self.reader = PageReader.for_stream(self.settings, self.logger)
        credential_params = getattr(self.auth, "param_names", frozenset())
        self.paginator = build_paginator(self.settings.pagination, self.reader, self.logger,
                                         credential_params, self.page_window)
        return self.paginator

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The request for one page (``RequestPlanner``), with the sync's starting bookmark
        (none while the sample is read: the sync has not begun, its state is untouched)."""
        context = page.stream_context
        bookmark = window = None
        if self.windows is not None:
            window = (self.windows.sample_window() if self.answers.sampling
                      else self.windows.current)
        elif self.settings.incremental is not None and not self.answers.sampling:
            bookmark = self.get_starting_replication_key_value(context)
        return self.planner.http_request(context, page.next_page_token, self.paginator,
                                         bookmark, window)

    def prepare_page(self, context: dict | None, token: Any) -> requests.PreparedRequest:
        """The prepared request for the page at ``token``, as the SDK's loop prepares it."""
        return prepared(self, self.get_http_request(page=PageContext(context, token)))

    def request_decorator(self, func: Callable) -> Callable:
        """Rate limit every try and retry transient failures with the shared policy; a request
        already answered is not sent again (``AnswerSources``). A streamed format's body is
        left unread by ``send_once`` (the SDK's own step would read it whole)."""
        retrying = self.http.retrying(
            self.answers.send_once if self.settings.response.streamed else func)

        def send(request: requests.PreparedRequest, context: dict | None) -> requests.Response:
            return self.answers.answer(request, context, retrying)

        return send

    def validate_response(self, response: requests.Response) -> None:
        """Fail or retry on the status, then decode the body (an undecodable body is retried).

        An answer an ``ignore`` rule matches (``response.rules``, ``response.empty_on``) is an
        empty last page instead.
        """
        self.answers.check_status(response)
        self.reader.read(response)

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The records of the page (decoded once, in ``validate_response``)."""
        return self.reader.read(response).all_records()

    def request_records(self, context: dict | None) -> Iterable[dict]:
        """Every record of every page, in page order; pages ahead when ``concurrency`` allows
        (``PageLoop``). A child's pages are read one after another: its concurrency goes to
        the first requests of upcoming parents instead (``ChildPlanner``). A stream with
        ``report`` reads the files of one report job instead (``ReportJob``)."""
        if self.settings.report is not None:
            return ReportJob(self, context).records()
        if reads_pages_ahead(self):
            return PageLoop(self, context).records()
        return super().request_records(context)

    # -- records --------------------------------------------------------------------------

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        """Every record of the stream, then its completion mark (``CompletionMarks``); with
        batch files the mark follows the last file instead (``BatchPath``).

        A child stream is read once per parent record: its completion comes with its root's,
        after the last parent's children.
        """
        self.record_writer.start(context)
        records = with_children_ahead(self, incremental_records(self, context))
        if self.parent_stream is not None:
            yield from self.schema_keeper.conformed(records)
            return
        try:
            yield from self.schema_keeper.conformed(records)
        finally:
            stop_reading_ahead(self)
        if not self.batch_path.active:
            self.marks.complete()

    def preprocess_context(self, context: dict) -> dict:
        """A child's context for one parent record (the SDK passes the record itself): the
        placeholder values. The included fields are kept aside for this sync's records, so
        an incremental child's context is exactly its state partition."""
        parent = self.parent_stream
        self.from_parent = self.link.included_values(context)
        return self.link.context(context, parent.primary_keys if parent else ())

    def generate_child_contexts(
        self, record: dict[str, Any], context: dict | None
    ) -> Iterable[dict | None]:
        """The record itself, from which each child takes what it needs; nothing for a stream
        without children (the common case: no per-record work)."""
        if self.child_streams:
            yield record

    # -- batch files ------------------------------------------------------------------------

    def get_batches(self, batch_config: BatchConfig, context: dict | None = None
                    ) -> Iterator[Batch]:
        """See ``BatchPath``."""
        return self.batch_path.batches(batch_config, context)

    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """No batch files for a child stream: they are cut per ``sync``, which for a child is
        per parent record (thousands of small files); its records go as RECORD messages."""
        return None if self.parent_stream is not None else super().get_batch_config(config)
