"""The Spark engine's incremental state: the Singer engine's ``<pipeline>.state.json``, read
before the run and saved after it.

A stream's bookmark advances only when every output of the stream was written, and only to
the greatest replication key value its Delta commits hold (``spark_rest_api.bookmarks``): a
rerun, on either engine, asks only for what is new and never skips what was not written.
Outputs that are not Delta tables (``rest_api``) and child streams keep their bookmark as it
was (not tracked on Spark yet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rest_api_core.errors import ConnectorError
from rest_connector.runner import save_state
from spark_rest_api import committed_files, written_maximum


@dataclass
class StreamBookmark:
    """One incremental stream's bookmark through the writes of one run."""

    stream: str
    key: str
    tracked: bool
    """False for a child stream (bookmarks per parent are not advanced on Spark)."""
    before: dict[str, frozenset[str]] = field(default_factory=dict)
    maxima: list[str | None] = field(default_factory=list)
    complete: bool = True

    def before_write(self, output: str, uri: str, settings: dict[str, Any]) -> None:
        """Note the table's files before ``output`` is written."""
        self.before[output] = committed_files(uri, settings)

    def written(self, output: str, uri: str | None, settings: dict[str, Any]) -> None:
        """``output`` was written: its greatest new value (a Delta table), or no bookmark."""
        if uri is None or output not in self.before:
            self.complete = False
            return
        self.maxima.append(written_maximum(uri, settings, self.before[output], self.key))

    def failed(self) -> None:
        """An output failed: the bookmark stays where it was."""
        self.complete = False


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConnectorError(f"--state {path}: cannot read the state file ({error})") from None
    if not isinstance(value, dict):
        raise ConnectorError(f"--state {path}: expected a JSON object (Singer state)")
    return value


class SparkState:
    """The pipeline's state file as the Singer engine writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value: dict[str, Any] = _read(path) if path.exists() else {}
        self.changed = False

    def option(self) -> str | None:
        """The state for the ``rest_api`` read's ``state`` option (None: no state yet)."""
        return json.dumps(self.value) if self.value else None

    def for_stream(self, stream: dict[str, Any]) -> StreamBookmark | None:
        """A tracker for an incremental stream; None for the others."""
        incremental = stream.get("incremental")
        if not incremental:
            return None
        return StreamBookmark(stream["name"], incremental["replication_key"],
                              tracked=not stream.get("parent"))

    def advance(self, bookmark: StreamBookmark) -> None:
        """Take the stream's new bookmark if every output committed its rows."""
        found = [value for value in bookmark.maxima if value is not None]
        if not (bookmark.tracked and bookmark.complete and found):
            return
        entry = self.value.setdefault("bookmarks", {}).setdefault(bookmark.stream, {})
        previous = entry.get("replication_key_value")
        value = min(found)  # the least any output holds
        if previous is not None and entry.get("replication_key") == bookmark.key:
            value = max(value, previous)
        entry.update(replication_key=bookmark.key, replication_key_value=value)
        self.changed = True

    def save(self) -> bool:
        """Save the state file if a bookmark moved; True when saved."""
        if self.changed:
            save_state(self.path, self.value)
        return self.changed
