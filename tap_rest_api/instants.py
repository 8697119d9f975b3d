"""Instants and durations as incremental settings write them: replication values compared as
points in time (never as text), window bounds written in the format an API takes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import isodate

from rest_api_core.errors import ConfigError

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
NAMED_FORMATS = ("iso8601", "unix", "unix_ms")
_SHORT_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_MILLISECONDS_FROM = 100_000_000_000
"""A unix number at least this large counts milliseconds (in seconds it is year 5138)."""
_YEAR_DIRECTIVES = ("%Y", "%y", "%G", "%s")


def parse_duration(value: Any, where: str) -> timedelta:
    """``7d``, ``6h``, ``30m``, ``90s`` or ISO 8601 (``P7D``, ``PT6H``) as a timedelta."""
    if isinstance(value, str):
        short = _SHORT_DURATION.match(value)
        if short:
            return timedelta(**{UNITS[short.group(2)]: float(short.group(1))})
        if value.strip().upper().startswith("P"):
            try:
                duration = isodate.parse_duration(value.strip().upper())
            except (isodate.ISO8601Error, ValueError):
                duration = None
            if isinstance(duration, timedelta):
                return duration
    msg = (f"{where}: expected a duration such as 7d, 6h, 30m, 90s or ISO 8601 (P7D, PT6H; "
           f"no months or years, which have no fixed length), got {value!r}")
    raise ConfigError(msg)


def parse_instant(value: Any, unit: str | None = None) -> datetime | None:
    """``value`` (RFC 3339 text, or unix seconds or milliseconds) as an aware UTC datetime;
    None when it is none of these. ``unit`` (``unix`` or ``unix_ms``) says how numbers count;
    otherwise a number this large counts milliseconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            return _from_text(text)
    if not isinstance(value, (int, float)):
        return None
    milliseconds = unit == "unix_ms" or (unit != "unix" and abs(value) >= _MILLISECONDS_FROM)
    try:
        return datetime.fromtimestamp(value / 1000 if milliseconds else value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _from_text(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # a time without an offset is taken as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def check_instant(value: Any, where: str) -> datetime:
    """A setting that must be an instant."""
    moment = parse_instant(value)
    if moment is None:
        msg = (f"{where}: expected an RFC 3339 timestamp (2024-01-01T00:00:00Z) or unix "
               f"seconds, got {value!r}")
        raise ConfigError(msg)
    return moment


def check_format(pattern: str, where: str) -> str:
    """``iso8601``, ``unix``, ``unix_ms`` or a strftime pattern that writes a year."""
    if pattern in NAMED_FORMATS:
        return pattern
    if not isinstance(pattern, str) or not any(d in pattern for d in _YEAR_DIRECTIVES):
        msg = (f"{where}: {pattern!r} cannot encode a timestamp: expected iso8601, unix, "
               "unix_ms or a strftime pattern with the year (%Y-%m-%d, %Y-%m-%dT%H:%M:%S)")
        raise ConfigError(msg)
    return pattern


def format_instant(moment: datetime, pattern: str) -> str | int:
    """``moment`` written as ``pattern`` says (``iso8601``: UTC with Z, whole seconds unless
    the instant has a fraction)."""
    moment = moment.astimezone(timezone.utc)
    if pattern == "unix":
        return int(moment.timestamp())
    if pattern == "unix_ms":
        return round(moment.timestamp() * 1000)
    if pattern == "iso8601":
        spec = "seconds" if moment.microsecond == 0 else "milliseconds"
        return moment.isoformat(timespec=spec).replace("+00:00", "Z")
    return moment.strftime(pattern)
