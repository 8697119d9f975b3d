"""An iterator of byte pieces read as a binary file, so the standard library's streaming readers
(``csv`` over ``io.TextIOWrapper``, ``iterparse``, ``readline``) can consume a body as it
arrives; and a cap on how many bytes a file may give."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from rest_api_core.errors import ConnectorError

READ_SIZE = 64 * 1024


class DownloadTooLargeError(ConnectorError):
    """A downloaded file gave more bytes than ``max_download_bytes`` allows."""


class ChunkReader(io.RawIOBase):
    """A read-only, forward-only binary file over ``chunks``; holds one piece at a time."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left:
            piece = next(self._chunks, None)
            if piece is None:
                return 0
            self._left = memoryview(piece)
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def buffered(chunks: Iterable[bytes]) -> io.BufferedReader:
    """``chunks`` as a buffered binary file (``readline``, ``peek``)."""
    return io.BufferedReader(ChunkReader(chunks), READ_SIZE)


def capped(chunks: Iterable[bytes], limit: int | None, where: str) -> Iterator[bytes]:
    """``chunks`` unchanged, failing once they add up to more than ``limit`` bytes (None: no
    limit): what stops a decompression bomb's output or an endless download."""
    if limit is None:
        yield from chunks
        return
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            msg = (f"{where}: the file is larger than max_download_bytes = {limit} "
                   "(counted after decompression); raise it if the file is expected")
            raise DownloadTooLargeError(msg)
        yield chunk
