"""A windowed stream's sync: its windows in order, each read with the stream's full
pagination, the bookmark and a STATE after each completed window. A run that fails or is
stopped inside a window leaves the bookmark at that window's start, so the next run begins
there: no window is skipped, none read twice (but for ``lookback``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tap_rest_api import windows
from tap_rest_api.instants import format_instant, parse_instant
from tap_rest_api.windows_ahead import WindowsAhead

if TYPE_CHECKING:
    from tap_rest_api.bookmarks import BookmarkKeeper
    from tap_rest_api.incremental import Incremental
    from tap_rest_api.streams import RestApiStream


class WindowRun:
    """One stream's windows: the plan, and the window its requests are for."""

    def __init__(self, stream: RestApiStream, settings: Incremental) -> None:
        self.stream = stream
        self.settings = settings
        self.end = windows.run_end(settings.end)
        """Where this run's windows end: ``end_value``, or the run's start (fixed once, so
        the sample's first request is the sync's)."""
        self.current: windows.Window | None = None
        """The window the stream's requests are for while the syncing thread reads it."""

    def plan(self, bookmark: Any) -> list[windows.Window]:
        """The windows from ``bookmark`` (minus ``lookback``; else ``start_value``) to the
        run's end."""
        settings = self.settings
        start = windows.first_start(bookmark, settings.start, settings.lookback, settings.unit)
        return windows.plan(start, self.end, settings.window.step)

    def sample_window(self) -> windows.Window:
        """The first window the sync will read, for the page read to infer the schema: from
        the state as it came in (read, never written: the sync has not begun); with nothing
        left to read, the last window before the run's end."""
        found = self.plan(self._incoming_bookmark())
        if found:
            return found[0]
        return windows.Window(1, self.end - self.settings.window.step, self.end)

    def _incoming_bookmark(self) -> Any:
        stream = self.stream
        if stream.parent_stream is not None:
            return None  # a child's bookmark is per parent: its sample starts at start_value
        entry = stream.tap_state.get("bookmarks", {}).get(stream.name, {})
        if entry.get("replication_key") != self.settings.replication_key:
            return None
        return entry.get("replication_key_value")

    def records(self, context: dict | None, keeper: BookmarkKeeper
                ) -> Iterator[dict[str, Any]]:
        """Every record of every window, in window order; after each window's last record is
        out, its bookmark and STATE."""
        stream = self.stream
        bookmark = stream.get_starting_replication_key_value(context)
        if bookmark is not None and parse_instant(bookmark, self.settings.unit) is None:
            stream.logger.warning(
                "Stream '%s': the state's bookmark %r is not a timestamp; the windows start "
                "at incremental.start_value", stream.name, bookmark)
        plan = self.plan(bookmark)
        if not plan:
            stream.logger.info("Stream '%s': nothing to read (bookmark %s is at or after the "
                               "end, %s)", stream.name, bookmark,
                               format_instant(self.end, "iso8601"))
            return
        stream.logger.info(
            "Stream '%s': %d windows of %s from %s to %s", stream.name, len(plan),
            self.settings.window.step_text, format_instant(plan[0].start, "iso8601"),
            format_instant(self.end, "iso8601"))
        ahead = (WindowsAhead(stream, context, plan[1:])
                 if stream.settings.concurrency > 1 and len(plan) > 1 else None)
        try:
            for window in plan:
                yield from self._window_records(window, context, ahead)
                keeper.window_done(window, context)
        except BaseException:
            if ahead is not None:
                ahead.close(wait_for_flight=False)
            raise
        if ahead is not None:
            ahead.close(wait_for_flight=True)

    def _window_records(self, window: windows.Window, context: dict | None,
                        ahead: WindowsAhead | None) -> Iterator[dict[str, Any]]:
        stream = self.stream
        if ahead is not None and window.number > 1:
            for response, page in ahead.take(window, stream.answers.waiting_on_the_api):
                stream.reader.accept(response, page)
                yield from page.records
            return
        yield from self.read(window, context)

    def read(self, window: windows.Window, context: dict | None) -> Iterator[dict[str, Any]]:
        """The records of one window, with the stream's full pagination (a Spark partition
        reads its windows this way)."""
        self.current = window
        try:
            yield from self.stream.request_records(context)
        finally:
            self.current = None
