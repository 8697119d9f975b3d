"""Coercing one JSON value to a declared type, losing nothing (the rules are in ``schema``'s
docstring): a converter per type, and the date and date-time checks inference shares."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any


class Reject(ValueError):
    """A value a converter cannot coerce without loss; the message says what was expected."""


Converter = Callable[[Any], Any]


_JSON_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string",
               dict: "object", list: "array", type(None): "null"}


def describe(value: Any) -> str:
    kind = _JSON_NAMES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text[:77] + '...' if len(text) > 80 else text}"


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, int, float, dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    raise Reject("expected a string")


_INTEGER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _to_integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) and value != "-0":
        return int(value)
    raise Reject("expected an integer (or an integer-valued number or string)")


_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise Reject("expected a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        number = float(value)
        if Decimal(repr(number)) == Decimal(value):
            return number
        raise Reject("expected a number a float holds exactly (this text would be rounded)")
    raise Reject("expected a number (or a numeric string)")


_BOOLEAN_TEXT = {"true": True, "false": False}


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[value.lower()]
    raise Reject("expected a boolean (or 'true'/'false', 0/1)")


_INSTANT_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_DIGITS = frozenset("0123456789")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_TIMESTAMP_EXPECTED = "expected an RFC 3339 date-time with offset (or epoch seconds)"


def is_date(text: str) -> bool:
    """True for ``YYYY-MM-DD`` naming a real calendar day."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_date_time(text: str) -> bool:
    """True for an RFC 3339 date-time in the form JSON Schema's ``date-time`` expects.

    ``YYYY-MM-DDTHH:MM:SS``, an optional ``.`` fraction, then ``Z`` or ``±HH:MM``; upper-case
    ``T`` and ``Z``; a real calendar day and time of day (no leap second).
    """
    if text[4:17:3] != "--T::" or len(text) < 20:
        return False
    if text[-1] != "Z" and (text[-6] not in "+-" or text[-3] != ":"):
        return False
    if text[19] not in "Z+-" and (text[19] != "." or text[20] not in _DIGITS):
        return False
    try:
        _parse_instant(text)
    except ValueError:
        return False
    return True


def _parse_by_pattern(text: str) -> None:
    """The RFC 3339 grammar by pattern, then the calendar day (Python 3.10's ISO parser
    knows neither ``Z`` nor fractions other than 3 or 6 digits)."""
    if _INSTANT_PATTERN.fullmatch(text) is None or not is_date(text[:10]):
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")


# Python 3.11+: the C ISO parser checks digits and ranges once the shape is known to be RFC 3339.
_parse_instant: Callable[[str], object] = (
    datetime.datetime.fromisoformat if sys.version_info >= (3, 11) else _parse_by_pattern)


def _to_timestamp(value: Any) -> str:
    if isinstance(value, str):
        if is_date_time(value):
            return value
        if len(value) > 10 and value[10] in "t ":
            value = f"{value[:10]}T{value[11:]}"
        if value[-1:] == "z":
            value = value[:-1] + "Z"
        if is_date_time(value):
            return value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return _epoch_to_timestamp(value)
    raise Reject(_TIMESTAMP_EXPECTED)


def _epoch_to_timestamp(seconds: float) -> str:
    micros = Decimal(repr(seconds)) * 1_000_000
    if micros != micros.to_integral_value():
        raise Reject("expected epoch seconds with at most microsecond precision")
    try:
        moment = _EPOCH + datetime.timedelta(microseconds=int(micros))
    except (OverflowError, ValueError):
        raise Reject("epoch seconds out of range (milliseconds? declare the field as long)")\
            from None
    return moment.isoformat().replace("+00:00", "Z")


def _to_date(value: Any) -> str:
    if isinstance(value, str) and is_date(value):
        return value
    raise Reject("expected a date YYYY-MM-DD")


def _to_binary(value: Any) -> str:
    if isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            return value
    raise Reject("expected standard base64 text")


def _to_object(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    raise Reject("expected a JSON object")


def _to_array(value: Any) -> list:
    if isinstance(value, list):
        return value
    raise Reject("expected a JSON array")


def is_anything(value: Any) -> Any:
    return value


# (JSON type, format or contentEncoding) -> (types accepted without a look, converter)
KINDS: dict[tuple[str, str | None], tuple[frozenset[type], Converter]] = {
    ("string", None): (frozenset({str}), _to_string),
    ("string", "date-time"): (frozenset(), _to_timestamp),
    ("string", "date"): (frozenset(), _to_date),
    ("string", "base64"): (frozenset(), _to_binary),
    ("integer", None): (frozenset({int}), _to_integer),
    ("number", None): (frozenset({int, float}), _to_number),
    ("boolean", None): (frozenset({bool}), _to_boolean),
    ("object", None): (frozenset({dict}), _to_object),
    ("array", None): (frozenset({list}), _to_array),
}
ANY_JSON = frozenset({str, int, float, bool, dict, list, type(None)})
