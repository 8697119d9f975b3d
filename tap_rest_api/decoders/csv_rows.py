"""CSV: the header row (or ``columns``) names the fields; every value stays a string (a declared
schema converts them; inference never does)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tap_rest_api.decoders.chunks import buffered
from tap_rest_api.decoders.errors import RecordDecodingError


@dataclass(frozen=True)
class CsvOptions:
    """A checked ``response.csv`` block."""

    delimiter: str = ","
    quotechar: str = '"'
    header: bool = True
    columns: tuple[str, ...] | None = None
    encoding: str = "utf-8"
    skip_rows: int = 0

    @property
    def text_encoding(self) -> str:
        """The codec to read with: UTF-8 drops a byte order mark; UTF-16 reads one."""
        name = codecs.lookup(self.encoding).name
        return "utf-8-sig" if name == "utf-8" else self.encoding


class CsvDecoder:
    """Records from CSV rows, read as the text arrives (quoted newlines included)."""

    def __init__(self, where: str, options: CsvOptions, max_cell_chars: int) -> None:
        self.where = where
        self.options = options
        # The csv module's cap on one cell is process-wide (128 KiB by default): raised, never
        # lowered, so a cell may be as long as max_response_bytes allows.
        csv.field_size_limit(max(csv.field_size_limit(), max_cell_chars))

    def records(self, chunks: Iterable[bytes]) -> Iterator[dict[str, str | None]]:
        """One record per row; blank lines skipped; a row longer than the names is an error,
        a shorter one gets null for the missing cells."""
        options = self.options
        text = io.TextIOWrapper(buffered(chunks), encoding=options.text_encoding, newline="")
        for _ in range(options.skip_rows):
            text.readline()
        rows = csv.reader(text, delimiter=options.delimiter, quotechar=options.quotechar)
        names = list(options.columns) if options.columns else None
        try:
            if options.header:
                header = next(rows, None)
                names = names or self._checked_header(header, rows.line_num)
            for row in rows:
                if not row:
                    continue
                if len(row) > len(names):
                    self._fail(rows.line_num, f"{len(row)} cells where the header names "
                                              f"{len(names)} fields")
                yield dict(zip(names, row + [None] * (len(names) - len(row)), strict=True))
        except csv.Error as error:
            self._fail(rows.line_num, f"not valid CSV ({error})")
        except UnicodeDecodeError as error:
            msg = (f"{self.where}: not {options.encoding} text ({error.reason} at byte "
                   f"{error.start}); set response.csv.encoding")
            raise RecordDecodingError(msg) from None

    def _checked_header(self, header: list[str] | None, line: int) -> list[str]:
        if not header:
            self._fail(line, "the header row is missing (set response.csv.header: false and "
                             "response.csv.columns for a file without one)")
        seen = set()
        for name in header:
            if not name or name in seen:
                what = "an empty column name" if not name else f"column {name!r} twice"
                self._fail(line, f"the header row has {what} (response.csv.columns can "
                                 "name the fields instead)")
            seen.add(name)
        return header

    def _fail(self, line: int, problem: str) -> None:
        raise RecordDecodingError(f"{self.where}, line {line + self.options.skip_rows}: "
                                  f"{problem}")
