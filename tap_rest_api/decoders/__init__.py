"""Decoders of response bodies that are not one JSON page: bytes in, records out, streaming.

Every decoder has one method, ``records(chunks)``: an iterable of byte pieces in (as they
arrive), an iterator of records out; it never needs the whole body. ``decoded_records`` puts
decompression (``compression``) and the byte cap in front of the stream's decoder. JSON pages,
which are held whole for pagination, stay with ``tap_rest_api.records``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from tap_rest_api.decoders.chunks import DownloadTooLargeError, capped
from tap_rest_api.decoders.compression import COMPRESSIONS, CompressedBodyError, files
from tap_rest_api.decoders.csv_rows import CsvDecoder
from tap_rest_api.decoders.errors import RecordDecodingError
from tap_rest_api.decoders.jsonl import JsonlDecoder
from tap_rest_api.decoders.options import FORMATS, ResponseFormat, format_problems
from tap_rest_api.decoders.xml_elements import XmlDecoder

__all__ = ["COMPRESSIONS", "FORMATS", "CompressedBodyError", "Decoder", "DownloadTooLargeError",
           "RecordDecodingError", "ResponseFormat", "decoded_records", "format_problems"]


class Decoder(Protocol):
    """Records out of the bytes of one file, as they arrive."""

    def records(self, chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """Every record of the file, in order."""


def decoder_for(response: ResponseFormat, where: str) -> Decoder:
    """The decoder of a streamed format (``jsonl``, ``csv``, ``xml``)."""
    if response.format == "jsonl":
        return JsonlDecoder(where, response.max_record_bytes)
    if response.format == "csv":
        return CsvDecoder(where, response.csv, response.max_record_bytes)
    return XmlDecoder(where, response.xml, response.root_key)


def decoded_records(chunks: Iterable[bytes], response: ResponseFormat, where: str
                    ) -> Iterator[dict[str, Any]]:
    """The records of a streamed body: decompressed (gzip, or each zip member in name order),
    each file capped at ``max_download_bytes`` after decompression, then decoded."""
    limit = response.max_download_bytes
    for file in files(chunks, response.compression, response.zip_members, where, limit):
        file_where = where if file.name is None else f"{where}, zip member '{file.name}'"
        yield from decoder_for(response, file_where).records(
            capped(file.chunks, limit, file_where))
