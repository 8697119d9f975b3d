"""The ``response`` block's format settings, checked: what a body is and how to read it.

``format_problems`` lists every mistake in a stream's settings, each named by its path: the tap
raises the first before any request; the pipeline app reports them all at their YAML lines.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rest_api_core.http_defaults import DEFAULT_MAX_RESPONSE_BYTES
from tap_rest_api.decoders.csv_rows import CsvOptions
from tap_rest_api.decoders.xml_elements import XmlOptions

FORMATS = ("json", "jsonl", "csv", "xml")
_ACCEPT = {"json": "application/json",
           "jsonl": "application/x-ndjson, application/jsonl, application/json;q=0.9, */*;q=0.8",
           "csv": "text/csv, */*;q=0.8",
           "xml": "application/xml, text/xml, application/atom+xml, application/rss+xml, "
                  "*/*;q=0.8"}
STREAMED_FORMATS = frozenset({"jsonl", "csv", "xml"})

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ResponseFormat:
    """How a stream's bodies are read."""

    format: str = "json"
    root_key: str | None = None
    compression: str = "auto"
    zip_members: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    xml: XmlOptions = field(default_factory=XmlOptions)
    max_record_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """The longest JSON line or CSV cell (``max_response_bytes``)."""
    max_download_bytes: int | None = None

    @property
    def streamed(self) -> bool:
        """Read as the body arrives (not held whole, as a JSON page is)."""
        return self.format in STREAMED_FORMATS

    @property
    def accept(self) -> str:
        """The ``Accept`` header asking for this format (a configured one wins)."""
        return _ACCEPT[self.format]

    @classmethod
    def of(cls, block: dict[str, Any] | None, max_record_bytes: int,
           max_download_bytes: int | None) -> ResponseFormat:
        """The format of a ``response`` block that ``format_problems`` found nothing wrong in."""
        block = block or {}
        csv = block.get("csv") or {}
        xml = block.get("xml") or {}
        columns = csv.get("columns")
        return cls(
            format=block.get("format") or "json",
            root_key=block.get("root_key"),
            compression=block.get("compression") or "auto",
            zip_members=block.get("zip_members"),
            csv=CsvOptions(**{**{k: v for k, v in csv.items() if v is not None},
                              "columns": tuple(columns) if columns else None}),
            xml=XmlOptions(**{**{k: v for k, v in xml.items() if v is not None},
                              "force_list": frozenset(xml.get("force_list") or ())}),
            max_record_bytes=max_record_bytes,
            max_download_bytes=max_download_bytes,
        )


_JSON_BODY_OPTIONS = {"total_field": "the total in the JSON body",
                      "stop_field": "a flag in the JSON body",
                      "link_field": "a link in the JSON body"}


def format_problems(stream: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every mistake in one stream's ``response`` format settings and their pairing with its
    pagination, each with the path of the setting to change."""
    block = stream.get("response")
    block = block if isinstance(block, dict) else {}
    kind = block.get("format") or "json"
    if kind not in FORMATS:
        return  # the settings schema names it
    if block.get("root_key") is not None and kind in ("jsonl", "csv"):
        yield ("response", "root_key"), (f"does not apply to format '{kind}' (every line is a "
                                         "record); remove it")
    for name in ("csv", "xml"):
        if block.get(name) is not None and kind != name:
            yield ("response", name), f"applies to format '{name}' only (format is '{kind}')"
    if block.get("zip_members") is not None and block.get("compression") not in (None, "auto",
                                                                                   "zip"):
        yield ("response", "zip_members"), "applies to zip files only (compression: auto or zip)"
    if kind == "csv":
        yield from _csv_problems(block.get("csv") or {})
    if kind != "json":
        yield from _pagination_problems(stream.get("pagination"), kind)


def _csv_problems(csv: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    for name in ("delimiter", "quotechar"):
        value = csv.get(name)
        if value is not None and len(value) != 1:
            yield ("response", "csv", name), f"expected one character, got {value!r}"
    if csv.get("header") is False and not csv.get("columns"):
        yield ("response", "csv", "columns"), ("required with header: false (the names of "
                                               "the fields, in column order)")
    encoding = csv.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            yield ("response", "csv", "encoding"), (f"{encoding!r} is not a known text "
                                                    "encoding (such as utf-8, latin-1, utf-16)")


def _pagination_problems(pagination: Any, kind: str) -> Iterator[tuple[Path, str]]:
    if not isinstance(pagination, dict):
        return
    if pagination.get("type") == "next_link":
        yield ("pagination", "type"), (f"next_link reads a link in a JSON body, which format "
                                       f"'{kind}' has not: use link_header, offset, page or "
                                       "cursor with cursor_from: header")
    if pagination.get("type") == "cursor" and pagination.get("cursor_from", "body") == "body":
        yield ("pagination", "cursor_from"), (f"'body' reads the cursor from a JSON body, which "
                                              f"format '{kind}' has not: use header or "
                                              "last_record")
    for name, what in _JSON_BODY_OPTIONS.items():
        if pagination.get(name) is not None and pagination.get("type") != "next_link":
            yield ("pagination", name), f"reads {what}, which format '{kind}' has not"
