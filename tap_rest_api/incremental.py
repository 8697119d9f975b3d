"""The ``incremental`` settings: the bookmark's field, how it reaches the API (a parameter,
windows, or not at all: the tap filters), and in which order records come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from singer_sdk import typing as th

from rest_api_core.errors import ConfigError
from tap_rest_api.instants import parse_duration
from tap_rest_api.windows import WindowSettings, check_placeholders, window_range

ORDERS = ("ascending", "descending")
FILTERS = ("server", "client")

WINDOW = th.Property(
    "window",
    th.ObjectType(
        th.Property("step", th.StringType, required=True,
                    description="Width of one window: 7d, 6h, 30m, 90s or ISO 8601 (P7D)"),
        th.Property("start_param", th.StringType,
                    description="Query parameter receiving the window's start"),
        th.Property("end_param", th.StringType,
                    description="Query parameter receiving the window's end (exclusive)"),
        th.Property("format", th.StringType,
                    description="iso8601 (default, UTC with Z), unix, unix_ms or a strftime "
                                "pattern such as %Y-%m-%d"),
        th.Property("granularity", th.StringType,
                    description="For an inclusive end: send the end minus this (1d, 1s)"),
        additional_properties=False,
    ),
    description="Read the range in half-open windows [start, end), STATE after each",
)

INCREMENTAL = th.Property(
    "incremental",
    th.ObjectType(
        th.Property("replication_key", th.StringType, required=True,
                    description="Record field (a dot path) holding the bookmark"),
        th.Property("param", th.StringType,
                    description="Request parameter that receives the bookmark (not with "
                                "window or filter: client)"),
        th.Property("start_value", th.StringType, description="Sent when there is no state yet"),
        th.Property("end_value", th.StringType,
                    description="Read up to this instant (default: the run's start)"),
        th.Property("end_param", th.StringType,
                    description="Without window: request parameter that receives end_value"),
        th.Property("lookback", th.StringType,
                    description="Windows start this far before the bookmark (late rows)"),
        WINDOW,
        th.Property("filter", th.StringType, allowed_values=list(FILTERS),
                    description="client: the API cannot filter, the tap drops records at or "
                                "before the bookmark (default server)"),
        th.Property("order", th.StringType, allowed_values=list(ORDERS),
                    description="descending: newest first, paging stops at the bookmark"),
        th.Property("sorted", th.BooleanType,
                    description="Records arrive in bookmark order (default false)"),
    ),
    title="Incremental replication",
)


@dataclass(frozen=True)
class Incremental:
    """Checked ``incremental`` settings."""

    replication_key: str
    param: str | None = None
    start_value: str | None = None
    sorted: bool = False
    end_value: str | None = None
    end_param: str | None = None
    lookback: timedelta | None = None
    window: WindowSettings | None = None
    filter: str = "server"
    order: str | None = None
    start: datetime | None = None
    """``start_value`` as an instant (windows only)."""
    end: datetime | None = None
    """``end_value`` as an instant (None: the run's start)."""

    @property
    def owns_bookmark(self) -> bool:
        """The tap keeps the bookmark itself (``bookmarks.BookmarkKeeper``) rather than the
        SDK: windows, client-side filtering, a stated order, or a nested field."""
        return (self.window is not None or self.filter == "client" or self.order is not None
                or "." in self.replication_key)

    @property
    def ascending(self) -> bool:
        """Records arrive oldest first: the bookmark may advance with each record."""
        return self.sorted or self.order == "ascending"

    @property
    def unit(self) -> str | None:
        """How numeric replication values count (``unix`` or ``unix_ms``), if the window
        format says."""
        if self.window is not None and self.window.format in ("unix", "unix_ms"):
            return self.window.format
        return None


def parse_incremental(stream: dict[str, Any], path: str) -> Incremental | None:
    """A stream's ``incremental`` block checked as a whole, before any request."""
    block = stream.get("incremental")
    check_placeholders(stream, path, windowed=bool(block and block.get("window")))
    if not block:
        return None
    where = f"{path}.incremental"
    key = block.get("replication_key")
    if not isinstance(key, str) or not key:
        msg = f"{where}.replication_key: required (the record field holding the bookmark)"
        raise ConfigError(msg)
    window = (WindowSettings.parse(block["window"], f"{where}.window")
              if block.get("window") is not None else None)
    start, end = window_range(block.get("start_value") if window else None,
                              block.get("end_value"), where)
    incremental = Incremental(
        replication_key=key, param=block.get("param"), start_value=block.get("start_value"),
        sorted=bool(block.get("sorted")), end_value=block.get("end_value"),
        end_param=block.get("end_param"),
        lookback=(parse_duration(block["lookback"], f"{where}.lookback")
                  if block.get("lookback") is not None else None),
        window=window, filter=block.get("filter") or "server", order=block.get("order"),
        start=start, end=end)
    _check_together(incremental, where)
    return incremental


def _check_together(settings: Incremental, where: str) -> None:
    """Settings that only make sense with (or without) others."""
    window = settings.window
    problem = None
    if window is not None and settings.param is not None:
        problem = (f"{where}.param: not with window (the window sends its range through "
                   "start_param/end_param or {window.*} placeholders)")
    elif window is not None and settings.start is None:
        problem = (f"{where}.start_value: required with window (where the first run's first "
                   "window starts)")
    elif window is not None and settings.order == "descending":
        problem = f"{where}.order: descending is not supported with window"
    elif window is not None and settings.end_param is not None:
        problem = f"{where}.end_param: not with window (use window.end_param)"
    elif window is None and settings.param is None and settings.filter != "client":
        problem = (f"{where}.param: required (the request parameter that receives the "
                   "bookmark), unless window sends a range or filter is client")
    elif window is None and settings.lookback is not None:
        problem = (f"{where}.lookback: needs window (each run's first window starts this far "
                   "before the bookmark)")
    elif settings.sorted and settings.order == "descending":
        problem = f"{where}.sorted: true contradicts order: descending"
    if problem is not None:
        raise ConfigError(problem)
    if window is not None:
        window.check_resolution(settings.start, f"{where}.window")
