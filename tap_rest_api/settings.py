"""The tap's settings: the JSON schema users configure, and each stream's checked settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from singer_sdk import typing as th

from rest_api_core.config import forbid_unknown_keys
from rest_api_core.errors import ConfigError
from rest_api_core.http_defaults import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
from rest_api_core.response_rules import ResponseRule, parse_rules
from rest_api_core.settings import (
    AUTH,
    HEADERS,
    MAX_RESPONSE_BYTES,
    PROXY,
    RATE_LIMIT,
    RESPONSE_RULES,
    TIMEOUT,
    TLS,
)
from rest_api_core.tls import Transport
from tap_rest_api.decoders import COMPRESSIONS, FORMATS, ResponseFormat
from tap_rest_api.incremental import INCREMENTAL, Incremental, parse_incremental
from tap_rest_api.pagination import PAGINATION_TYPES, PaginationSettings
from tap_rest_api.parents import ParentLink
from tap_rest_api.report_settings import ReportSettings

HTTP_METHODS = ("GET", "POST")
_SCALAR = th.AnyOf(th.StringType, th.IntegerType, th.NumberType, th.BooleanType)

PAGINATION = th.Property(
    "pagination",
    th.ObjectType(
        th.Property("type", th.StringType, required=True, allowed_values=list(PAGINATION_TYPES)),
        th.Property("max_pages", th.IntegerType, description="Stop after this many pages"),
        th.Property("page_size", th.IntegerType, description="Records asked for per page (100)"),
        th.Property("limit_param", th.StringType,
                    description="Query parameter for the page size ('limit'; null: none)"),
        th.Property("offset_param", th.StringType, description="offset: parameter ('offset')"),
        th.Property("start", th.IntegerType, description="offset: first offset (0)"),
        th.Property("page_param", th.StringType, description="page: parameter ('page')"),
        th.Property("start_page", th.IntegerType, description="page: first page number (1)"),
        th.Property("total_field", th.StringType,
                    description="offset/page: dot path to the total record count"),
        th.Property("cursor_field", th.StringType, description="cursor: dot path to the cursor"),
        th.Property("cursor_from", th.StringType,
                    allowed_values=["body", "header", "last_record"],
                    description="cursor: where the cursor is read (body)"),
        th.Property("cursor_param", th.StringType, description="cursor: parameter ('cursor')"),
        th.Property("cursor_in", th.StringType, allowed_values=["query", "body"],
                    description="cursor: send the cursor in the query or the JSON body"),
        th.Property("stop_field", th.StringType,
                    description="cursor: dot path to a boolean such as has_more"),
        th.Property("link_field", th.StringType, description="next_link: dot path ('next')"),
    ),
    title="Pagination",
)

SCHEMA_FIELD = th.ObjectType(
    th.Property("name", th.StringType, required=True),
    th.Property("type", th.StringType, required=True),
    th.Property("nullable", th.BooleanType),
)

STREAM_CONCURRENCY = th.Property(
    "concurrency", th.IntegerType(minimum=1),
    description="This stream's share of the requests in flight (1: one at a time): offset and "
                "page pagination read pages ahead, a child requests upcoming parents' "
                "children ahead; output stays in order",
)
TAP_CONCURRENCY = th.Property(
    "concurrency", th.IntegerType(minimum=1),
    description="Most requests the whole tap keeps in flight at once (1: one at a time); above "
                "1, streams are read side by side",
)

RESPONSE = th.Property("response", th.ObjectType(
    th.Property("format", th.StringType, allowed_values=list(FORMATS),
                description="json (default), jsonl, csv or xml"),
    th.Property("root_key", th.StringType,
                description="Dot path to the records (json), or their element path (xml)"),
    th.Property("compression", th.StringType, allowed_values=list(COMPRESSIONS),
                description="auto (default: gzip and zip told by their first bytes), none, "
                            "gzip or zip"),
    th.Property("zip_members", th.StringType,
                description="Glob of the zip members to read, in name order (every member)"),
    th.Property("csv", th.ObjectType(
        th.Property("delimiter", th.StringType, description="(,)"),
        th.Property("quotechar", th.StringType, description='(")'),
        th.Property("header", th.BooleanType, description="The first row names the fields "
                                                          "(true)"),
        th.Property("columns", th.ArrayType(th.StringType),
                    description="Field names in column order (needed without a header)"),
        th.Property("encoding", th.StringType, description="Text encoding (utf-8)"),
        th.Property("skip_rows", th.IntegerType(minimum=0),
                    description="Lines skipped before the header (0)"),
    )),
    th.Property("xml", th.ObjectType(
        th.Property("attribute_prefix", th.StringType, description="(@)"),
        th.Property("text_key", th.StringType, description="(#text)"),
        th.Property("force_list", th.ArrayType(th.StringType),
                    description="Elements that are always lists, even when alone"),
    )),
    th.Property("empty_on", th.ArrayType(th.IntegerType(minimum=400, maximum=599)),
                description="HTTP statuses that mean no records (e.g. 404, 410) "
                            "instead of a failure (shorthand for ignore rules)"),
    RESPONSE_RULES,
))

REPORT = th.Property("report", th.ObjectType(
    th.Property("create", th.ObjectType(
        th.Property("url", th.StringType, required=True),
        th.Property("method", th.StringType, allowed_values=list(HTTP_METHODS)),
        th.Property("body", th.ObjectType(), description="JSON request body"),
        th.Property("params", th.ObjectType(additional_properties=_SCALAR)),
    ), required=True),
    th.Property("poll", th.ObjectType(
        th.Property("url", th.StringType, required=True,
                    description="With {job.<dot path>} placeholders from the create answer"),
        th.Property("every", th.NumberType(minimum=0), description="Seconds between polls (5)"),
        th.Property("timeout", th.NumberType(minimum=0),
                    description="Seconds before the job is given up (3600)"),
        th.Property("status_field", th.StringType, description="Dot path (status)"),
        th.Property("done", th.ArrayType(th.StringType), required=True),
        th.Property("failed", th.ArrayType(th.StringType)),
        th.Property("message_field", th.StringType,
                    description="Dot path to the job's error message (message)"),
    ), required=True),
    th.Property("download", th.ObjectType(
        th.Property("url_field", th.StringType, required=True,
                    description="Dot path in the last poll answer: a URL or a list of URLs"),
    ), required=True),
), description="Create a report job, poll it until done, then read its files")

MAX_DOWNLOAD_BYTES = th.Property(
    "max_download_bytes", th.IntegerType(minimum=1), title="Largest download",
    description="Most bytes of one streamed file (jsonl, csv, xml, compressed), counted after "
                "decompression (default: no limit)",
)

STREAM = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name"),
    th.Property("url", th.StringType, description="Endpoint URL (not with report)"),
    th.Property("method", th.StringType, allowed_values=list(HTTP_METHODS)),
    HEADERS,
    th.Property("params", th.ObjectType(additional_properties=th.AnyOf(
        _SCALAR, th.ArrayType(_SCALAR))), description="Query string parameters"),
    th.Property("body", th.ObjectType(), description="JSON request body (POST)"),
    AUTH,
    PAGINATION,
    RESPONSE,
    REPORT,
    RATE_LIMIT,
    th.Property("schema", th.ArrayType(SCHEMA_FIELD),
                description="Declared fields; inferred from the first page if omitted"),
    th.Property("primary_keys", th.ArrayType(th.StringType)),
    INCREMENTAL,
    TIMEOUT,
    MAX_RESPONSE_BYTES,
    TLS,
    PROXY,
    MAX_DOWNLOAD_BYTES,
    STREAM_CONCURRENCY,
    th.Property("parent", th.StringType,
                description="Stream whose records this one is requested for, once each, "
                            "filling {parent.<dot path>} placeholders"),
    th.Property("include_from_parent", th.ArrayType(th.StringType),
                description="Parent fields (dot paths) copied into each record as "
                            "_<parent>_<path>"),
)

CONFIG_SCHEMA = forbid_unknown_keys(
    th.PropertiesList(
        th.Property("streams", th.ArrayType(STREAM), required=True,
                    description="The endpoints to read, one stream each"),
        HEADERS,
        AUTH,
        RATE_LIMIT,
        TIMEOUT,
        MAX_RESPONSE_BYTES,
        TLS,
        PROXY,
        MAX_DOWNLOAD_BYTES,
        TAP_CONCURRENCY,
        th.Property(
            "emit_activate_version_messages", th.BooleanType, default=True,
            title="Emit ACTIVATE_VERSION messages",
            description="Mark each full-table stream's start and completion with ACTIVATE_VERSION "
                        "(default true): a target replacing a table commits only a stream whose "
                        "read completed, never the part of a failed one",
        ),
    ).to_dict()
)


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(item) for item in value]
    return value


@dataclass(frozen=True)
class StreamSettings:
    """One stream's settings with the tap-level defaults applied."""

    name: str
    url: str
    field_path: str
    method: str = "GET"
    headers: dict[str, str] | None = None
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    pagination: PaginationSettings | None = None
    root_key: str | None = None
    response_rules: tuple[ResponseRule, ...] = ()
    """``response.rules``, then ``response.empty_on`` as an ``ignore`` rule."""
    rate_limit: dict[str, Any] | None = None
    schema_fields: list[dict[str, Any]] | None = None
    primary_keys: tuple[str, ...] = ()
    incremental: Incremental | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    parent_link: ParentLink | None = None
    response: ResponseFormat = field(default_factory=ResponseFormat)
    report: ReportSettings | None = None
    concurrency: int = 1
    """Requests in flight at once: the stricter of the stream's and the tap's setting."""
    transport: Transport | None = None
    """``tls`` and ``proxy``, each the stream's or else the tap's."""

    @classmethod
    def from_config(cls, config: dict[str, Any], index: int) -> StreamSettings:
        """Stream ``index`` of ``config``, inheriting the tap-level defaults."""
        stream = config["streams"][index]
        path = f"streams[{index}]"
        pagination = stream.get("pagination")
        report = ReportSettings.of(stream["report"]) if stream.get("report") else None
        max_response_bytes = int(
            _stream_or_top(stream, config, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES))
        response = stream.get("response") or {}
        return cls(
            name=stream["name"],
            url=report.create_url if report is not None else stream["url"],
            field_path=path,
            method=(stream.get("method") or "GET").upper(),
            headers={**(config.get("headers") or {}), **(stream.get("headers") or {})},
            params={k: _query_value(v) for k, v in (stream.get("params") or {}).items()},
            body=stream.get("body"),
            auth=stream.get("auth") or config.get("auth"),
            pagination=PaginationSettings.parse(pagination, f"{path}.pagination")
            if pagination else None,
            root_key=response.get("root_key"),
            response_rules=parse_rules(response.get("rules"), f"{path}.response.rules",
                                       response.get("empty_on") or (), "response.empty_on"),
            rate_limit={**(config.get("rate_limit") or {}), **(stream.get("rate_limit") or {})},
            schema_fields=stream.get("schema"),
            primary_keys=tuple(stream.get("primary_keys") or ()),
            incremental=parse_incremental(stream, path),
            timeout=float(_stream_or_top(stream, config, "timeout", DEFAULT_TIMEOUT)),
            max_response_bytes=max_response_bytes,
            parent_link=ParentLink.of(stream),
            response=ResponseFormat.of(
                stream.get("response"), max_response_bytes,
                _stream_or_top(stream, config, "max_download_bytes", None)),
            report=report,
            concurrency=_concurrency(stream, config, path),
            transport=_transport(stream, config, path),
        )


def _stream_or_top(stream: dict[str, Any], config: dict[str, Any], key: str, default: Any) -> Any:
    for source in (stream, config):
        if source.get(key) is not None:
            return source[key]
    return default


def _transport(stream: dict[str, Any], config: dict[str, Any], path: str) -> Transport | None:
    """The stream's ``tls`` and ``proxy`` (each the stream's, else the tap's), checked."""
    fields = {key: f"{path}.{key}" if stream.get(key) is not None else key
              for key in ("tls", "proxy")}
    return Transport.parse(_stream_or_top(stream, config, "tls", None),
                           _stream_or_top(stream, config, "proxy", None), fields["tls"],
                           fields["proxy"])


def _concurrency(stream: dict[str, Any], config: dict[str, Any], path: str) -> int:
    """The stream's ``concurrency`` capped by the tap's: whichever is set, else 1."""
    values = []
    for where, source in ((f"{path}.concurrency", stream), ("concurrency", config)):
        value = source.get("concurrency")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"{where}: expected an integer of at least 1, got {value!r}"
            raise ConfigError(msg)
        values.append(value)
    return min(values, default=1)


def check_unique_names(config: dict[str, Any]) -> None:
    """Stream names must be unique: they name the tables downstream."""
    seen: dict[str, int] = {}
    for index, stream in enumerate(config["streams"]):
        name = stream["name"]
        if name in seen:
            msg = f"streams[{index}].name: {name!r} is already the name of streams[{seen[name]}]"
            raise ConfigError(msg)
        seen[name] = index
