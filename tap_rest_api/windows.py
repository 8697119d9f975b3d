"""Incremental windows: the range from the bookmark to ``end_value`` cut into half-open
``[start, end)`` windows of ``step``, each sent as parameters or ``{window.start}`` /
``{window.end}`` placeholders in the url, params, headers and body.

Many APIs take a time range and cap its width (Stripe's ``created[gte]``/``created[lt]``,
exports by day); a first run walks months window by window, and a run that fails resumes at
the first window it did not complete (the bookmark is the last completed window's end).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from rest_api_core.errors import ConfigError
from tap_rest_api.instants import (
    check_format,
    check_instant,
    format_instant,
    parse_duration,
    parse_instant,
)

PLACEHOLDER = re.compile(r"\{window\.(start|end)\}")
_REQUEST_PARTS = ("url", "params", "headers", "body")
_WINDOW_KEYS = frozenset({"step", "start_param", "end_param", "format", "granularity"})


@dataclass(frozen=True)
class Window:
    """One half-open range ``[start, end)``; ``number`` counts from 1 within the run."""

    number: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class WindowSettings:
    """Checked ``incremental.window``."""

    step: timedelta
    start_param: str | None = None
    end_param: str | None = None
    format: str = "iso8601"
    granularity: timedelta | None = None
    step_text: str = ""
    """``step`` as configured, for log lines."""

    @classmethod
    def parse(cls, block: Any, where: str) -> WindowSettings:
        """``incremental.window`` checked, each mistake named by its field."""
        if not isinstance(block, dict):
            msg = f"{where}: expected an object with step, start_param, end_param, format"
            raise ConfigError(msg)
        unknown = set(block) - _WINDOW_KEYS
        if unknown:
            msg = (f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected "
                   f"{', '.join(sorted(_WINDOW_KEYS))}")
            raise ConfigError(msg)
        if block.get("step") is None:
            msg = f"{where}.step: required (the width of one window, such as 7d or P7D)"
            raise ConfigError(msg)
        step = parse_duration(block["step"], f"{where}.step")
        if step <= timedelta(0):
            msg = f"{where}.step: expected a duration above zero, got {block['step']!r}"
            raise ConfigError(msg)
        granularity = block.get("granularity")
        if granularity is not None:
            granularity = parse_duration(granularity, f"{where}.granularity")
            if not timedelta(0) < granularity < step:
                msg = (f"{where}.granularity: expected a duration above zero and below "
                       f"step ({block['step']}), got {block['granularity']!r}")
                raise ConfigError(msg)
        return cls(step=step, start_param=block.get("start_param"),
                   end_param=block.get("end_param"),
                   format=check_format(block.get("format") or "iso8601", f"{where}.format"),
                   granularity=granularity, step_text=str(block["step"]))

    def values(self, window: Window) -> dict[str, str | int]:
        """The window's bounds as sent: the end minus ``granularity`` for an API whose end
        is inclusive."""
        end = window.end - self.granularity if self.granularity else window.end
        return {"start": format_instant(window.start, self.format),
                "end": format_instant(end, self.format)}

    def check_resolution(self, start: datetime, where: str) -> None:
        """Two successive bounds must be written differently (``%Y-%m-%d`` cannot send 6h
        windows)."""
        if self.values(Window(1, start, start + self.step)) == self.values(
                Window(2, start + self.step, start + 2 * self.step)):
            msg = (f"{where}.format: {self.format!r} writes two successive window bounds "
                   f"alike; use a finer format or a longer step")
            raise ConfigError(msg)


def check_placeholders(stream: dict[str, Any], path: str, windowed: bool) -> None:
    """A ``{window.*}`` placeholder needs ``incremental.window``."""
    if windowed:
        return
    for part in _REQUEST_PARTS:
        if PLACEHOLDER.search(json.dumps(stream.get(part))):
            msg = (f"{path}.{part}: uses a {{window.start}}/{{window.end}} placeholder, but "
                   f"{path}.incremental.window is not configured")
            raise ConfigError(msg)


def window_range(start_value: Any, end_value: Any, where: str
                 ) -> tuple[datetime | None, datetime | None]:
    """``start_value`` and ``end_value`` as instants; the end not before the start."""
    start = None if start_value is None else check_instant(start_value, f"{where}.start_value")
    end = None if end_value is None else check_instant(end_value, f"{where}.end_value")
    if start is not None and end is not None and end < start:
        msg = f"{where}.end_value: {end_value!r} is before start_value {start_value!r}"
        raise ConfigError(msg)
    return start, end


def plan(first_start: datetime, end: datetime, step: timedelta) -> list[Window]:
    """Windows of ``step`` aligned from ``first_start``, the last one cut at ``end``."""
    windows = []
    start = first_start
    while start < end:
        windows.append(Window(len(windows) + 1, start, min(start + step, end)))
        start += step
    return windows


def first_start(bookmark: Any, start_value: datetime | None, lookback: timedelta | None,
                unit: str | None) -> datetime | None:
    """Where this run's windows begin: the bookmark minus ``lookback`` (never before
    ``start_value``), or ``start_value`` without a bookmark."""
    moment = parse_instant(bookmark, unit)
    if moment is None:
        return start_value
    if lookback:
        moment -= lookback
    return max(moment, start_value) if start_value is not None else moment


def run_end(end_value: datetime | None) -> datetime:
    """The last instant a run reads up to: ``end_value``, or now (the run's start)."""
    return end_value or datetime.now(timezone.utc).replace(microsecond=0)


def fill_text(text: str, values: dict[str, Any], *, quoted: bool = False) -> str:
    """``text`` with the window placeholders filled (as URL path segments when ``quoted``)."""
    def value(match: re.Match) -> str:
        found = str(values[match.group(1)])
        return quote(found, safe="") if quoted else found

    return PLACEHOLDER.sub(value, text)


def fill_any(value: Any, values: dict[str, Any]) -> Any:
    """A copy of params, headers or a JSON body with the placeholders filled; a string that
    is exactly one placeholder takes the bound itself (a number for ``unix``)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        return values[whole.group(1)] if whole else fill_text(value, values)
    if isinstance(value, dict):
        return {key: fill_any(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_any(item, values) for item in value]
    return value
