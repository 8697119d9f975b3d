"""JSON pages in gzip or zip files: each file inflated whole (a JSON page is held whole for its
pagination fields), under ``max_response_bytes`` counted after decompression."""

from __future__ import annotations

from rest_api_core.errors import ResponseTooLargeError
from tap_rest_api.decoders import ResponseFormat
from tap_rest_api.decoders.compression import detect, files


def decompressed(content: bytes, decoding: ResponseFormat, where: str) -> list[bytes]:
    """The JSON documents of a body: itself, the inflated gzip file, or each zip member."""
    kind = detect(content[:4]) if decoding.compression == "auto" else decoding.compression
    if kind == "none":
        return [content]
    limit = decoding.max_record_bytes
    documents = []
    for file in files([content], kind, decoding.zip_members, where, None):
        document = bytearray()
        for chunk in file.chunks:
            document += chunk
            if len(document) > limit:
                msg = (f"{where}: the {kind} file inflates to more than max_response_bytes = "
                       f"{limit}")
                raise ResponseTooLargeError(msg)
        documents.append(bytes(document))
    return documents
