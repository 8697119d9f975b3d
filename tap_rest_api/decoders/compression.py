"""Compressed bodies: gzip inflated as it arrives, zip members read one after another.

``compression: auto`` decides from the first bytes (the gzip and zip magic numbers), never from
a header. Output is produced a bounded piece at a time, so a decompression bomb costs no memory:
it meets ``max_download_bytes`` (or never ends, like any endless download, when that is unset).
"""

from __future__ import annotations

import fnmatch
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import IO

from rest_api_core.errors import ConnectorError
from tap_rest_api.decoders.chunks import READ_SIZE, capped

COMPRESSIONS = ("auto", "none", "gzip", "zip")
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_INFLATE_STEP = 1024 * 1024
"""Most bytes one step of inflation produces, however small its input."""
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class CompressedBodyError(ConnectorError):
    """A body that is not the gzip or zip file it claims or was detected to be."""


@dataclass
class DownloadedFile:
    """One file of a body: the body itself, or one zip member (``name``)."""

    name: str | None
    chunks: Iterator[bytes]


def detect(head: bytes) -> str:
    """``gzip``, ``zip`` or ``none`` from a body's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    return "none"


def files(chunks: Iterable[bytes], compression: str, members: str | None, where: str,
          limit: int | None) -> Iterator[DownloadedFile]:
    """The files of a body: one (inflated if gzip), or each zip member matching ``members``
    (a glob; None: every member) in name order. ``limit`` caps the bytes spooled for a zip."""
    pieces = iter(chunks)
    head = b""
    while len(head) < 4:
        piece = next(pieces, None)
        if piece is None:
            break
        head += piece
    body = chain([head], pieces)
    kind = detect(head) if compression == "auto" else compression
    if kind == "gzip":
        yield DownloadedFile(None, _gunzip(body, where))
    elif kind == "zip":
        yield from _zip_members(body, members, where, limit)
    else:
        yield DownloadedFile(None, body)


def _gunzip(chunks: Iterable[bytes], where: str) -> Iterator[bytes]:
    """Inflate gzip data (concatenated members too), a bounded piece at a time."""
    inflater = zlib.decompressobj(_GZIP_WBITS)
    pending = False
    try:
        for data in chunks:
            while data:
                pending = True
                out = inflater.decompress(data, _INFLATE_STEP)
                if out:
                    yield out
                if inflater.eof:
                    data, pending = inflater.unused_data, False
                    inflater = zlib.decompressobj(_GZIP_WBITS)
                else:
                    data = inflater.unconsumed_tail
    except zlib.error as error:
        msg = f"{where}: the body is not valid gzip data ({error}); check response.compression"
        raise CompressedBodyError(msg) from None
    if pending:
        msg = f"{where}: the gzip data ends before its end marker (a cut file?)"
        raise CompressedBodyError(msg)


def _zip_members(chunks: Iterable[bytes], members: str | None, where: str,
                 limit: int | None) -> Iterator[DownloadedFile]:
    """A zip's index is at its end: the body is spooled to a temporary file (on disk, not in
    memory), then the members are read one after another."""
    with tempfile.TemporaryFile(prefix="tap-rest-api-zip-") as spool:
        for chunk in capped(chunks, limit, where):
            spool.write(chunk)
        spool.seek(0)
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile as error:
            msg = f"{where}: the body is not a valid zip file ({error}); check response.compression"
            raise CompressedBodyError(msg) from None
        with archive:
            names = sorted(info.filename for info in archive.infolist() if not info.is_dir())
            chosen = [name for name in names if members is None or fnmatch.fnmatch(name, members)]
            if not chosen:
                msg = (f"{where}: no zip member matches response.zip_members = {members!r} "
                       f"(the zip has: {', '.join(names) or 'no files'})")
                raise CompressedBodyError(msg)
            for name in chosen:
                with archive.open(name) as member:
                    yield DownloadedFile(name, _read_member(member, f"{where}, zip member "
                                                                   f"'{name}'"))


def _read_member(member: IO[bytes], where: str) -> Iterator[bytes]:
    try:
        while piece := member.read(READ_SIZE):
            yield piece
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise CompressedBodyError(f"{where}: cannot be read ({error})") from None
