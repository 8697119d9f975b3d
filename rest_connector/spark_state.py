"""The Spark engine's incremental state: the Singer engine's ``<pipeline>.state.json``, read
before the run and saved after it, in the shape the tap writes.

A stream's bookmark advances only when every output of the stream was written, and only to
what its Delta commits hold (``spark_rest_api.bookmarks``): a rerun, on either engine, asks
only for what is new and never skips what was not written.

- a root stream: the greatest replication key value among the rows the commits added;
- an incremental child: per parent context (``bookmarks.<child>.partitions[]``, each with its
  ``context``), the greatest value among the added rows of that parent, told apart by the
  context's ``_<parent>_<path>`` columns (a child whose rows lack them keeps its bookmarks);
- a windowed stream: the end of the run's last window (or the greatest value added, if
  later), as the tap holds it once every window is out; unchanged when no window was read.

Outputs that are not Delta tables (``rest_api``) keep the stream's bookmark as it was.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rest_api_core.errors import ConnectorError
from rest_connector.runner import save_state
from spark_rest_api import (
    committed_files,
    context_columns,
    window_bookmark,
    written_maxima,
    written_maximum,
)

logger = logging.getLogger("rest_connector.spark_state")


@dataclass
class StreamBookmark:
    """One incremental stream's bookmark through the writes of one run."""

    settings: dict[str, Any]
    """The stream's settings as read (a windowed stream's with its run's ``end_value``)."""
    contexts: tuple[str, ...] = ()
    """A child's parent context columns (its bookmarks are per parent); () for a root."""
    tracked: bool = True
    """False for a child whose rows cannot tell its parents apart: its bookmarks stay."""
    before: dict[str, frozenset[str]] = field(default_factory=dict)
    maxima: list[Any] = field(default_factory=list)
    """Per output: its greatest new value (a root), or the greatest per context (a child)."""
    complete: bool = True

    @property
    def stream(self) -> str:
        """The stream's name."""
        return self.settings["name"]

    @property
    def key(self) -> str:
        """The replication key."""
        return self.settings["incremental"]["replication_key"]

    @property
    def windowed(self) -> bool:
        """The stream reads its range in windows."""
        return bool(self.settings["incremental"].get("window"))

    def before_write(self, output: str, uri: str, settings: dict[str, Any]) -> None:
        """Note the table's files before ``output`` is written."""
        self.before[output] = committed_files(uri, settings)

    def written(self, output: str, uri: str | None, settings: dict[str, Any]) -> None:
        """``output`` was written: its greatest new value(s) (a Delta table), or no bookmark."""
        if uri is None or output not in self.before:
            self.complete = False
        elif self.contexts:
            self.maxima.append(written_maxima(uri, settings, self.before[output], self.key,
                                              self.contexts))
        else:
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


def _later(value: str, entry: dict[str, Any], key: str) -> str:
    """``value``, unless ``entry``'s bookmark of the same key is further on."""
    previous = entry.get("replication_key_value")
    if previous is not None and entry.get("replication_key") == key:
        return max(value, previous)
    return value


class SparkState:
    """The pipeline's state file as the Singer engine writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value: dict[str, Any] = _read(path) if path.exists() else {}
        self.changed = False
        self.read: list[str] = []
        """Streams read and written completely in this run (the tap's state names each)."""

    def option(self) -> str | None:
        """The state for the ``rest_api`` read's ``state`` option (None: no state yet)."""
        return json.dumps(self.value) if self.value else None

    def for_stream(self, stream: dict[str, Any], columns: list[str]) -> StreamBookmark | None:
        """A tracker for an incremental stream whose rows have ``columns``; None for the
        others."""
        if not stream.get("incremental"):
            return None
        contexts = context_columns(stream)
        missing = [name for name in contexts if name not in columns]
        if missing:
            logger.warning(
                "stream '%s': its bookmarks per parent stay as they were on --engine spark: "
                "add the placeholder field(s) to include_from_parent (rows without %s cannot "
                "tell their parents apart)", stream["name"], ", ".join(missing))
        return StreamBookmark(stream, contexts, tracked=not missing)

    def _entry(self, stream: str) -> dict[str, Any]:
        return self.value.setdefault("bookmarks", {}).setdefault(stream, {})

    def advance(self, bookmark: StreamBookmark) -> None:
        """Take the stream's new bookmark(s) if every output committed its rows."""
        if not (bookmark.tracked and bookmark.complete and bookmark.maxima):
            return
        if bookmark.contexts:
            self._advance_per_parent(bookmark)
            return
        found = [value for value in bookmark.maxima if value is not None]
        entry = self.value.get("bookmarks", {}).get(bookmark.stream, {})
        if bookmark.windowed:
            previous = (entry.get("replication_key_value")
                        if entry.get("replication_key") == bookmark.key else None)
            value = window_bookmark(bookmark.settings, previous, min(found) if found else None)
        else:
            value = _later(min(found), entry, bookmark.key) if found else None
        if value is None:
            return
        entry = self._entry(bookmark.stream)
        entry.pop("progress_markers", None)
        entry.update(replication_key=bookmark.key, replication_key_value=value)
        self.changed = True

    def _advance_per_parent(self, bookmark: StreamBookmark) -> None:
        """Each parent that every output added rows for: its partition's bookmark (the least
        any output holds), found by its context as the SDK finds it, else a new one."""
        first, *others = bookmark.maxima
        found = {context: min([value, *(other[context] for other in others)])
                 for context, value in first.items()
                 if all(context in other for other in others)}
        if not found:
            return
        partitions = self._entry(bookmark.stream).setdefault("partitions", [])
        for pairs, value in found.items():
            context = dict(pairs)
            partition = next((p for p in partitions if p.get("context") == context), None)
            if partition is None:
                partition = {"context": context}
                partitions.append(partition)
            partition.pop("progress_markers", None)
            partition.update(replication_key=bookmark.key,
                             replication_key_value=_later(value, partition, bookmark.key))
        self.changed = True

    def stream_read(self, stream: str) -> None:
        """``stream`` was read and every output written."""
        self.read.append(stream)

    def save(self) -> bool:
        """Save the state file if a bookmark moved, naming every stream read as the tap's
        state does; True when saved."""
        if self.changed:
            for stream in self.read:
                self._entry(stream)
            save_state(self.path, self.value)
        return self.changed
