"""Records → one Arrow record batch, a column at a time.

Each column's values are handed to Arrow's C converters in one call (``pa.array(values,
type)``); only a column that Arrow refuses falls back to a per-value pass, which either
converts without loss (``Decimal`` → float, ``42.0`` → 42, a datetime object, a naive or
lower-case RFC 3339 string) or raises ``ValueConversionError`` naming the column and value.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from rest_api_core.arrow.schema import (
    BINARY,
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    JSON,
    LIST,
    NULL,
    NUMBER,
    STRING,
    STRUCT,
    TEXT,
    Column,
    StreamLayout,
)
from rest_api_core.errors import ConnectorError

_MAX_EXACT_FLOAT_INT = 2**53
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
                 TypeError, ValueError, OverflowError)


class ValueConversionError(ConnectorError):
    """A record value that does not fit its column's declared type."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=_json_default).decode()


def _text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else _json_text(value)


def _integer(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float | decimal.Decimal) and value == int(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    if not -(2**63) <= value < 2**63:
        raise ValueError("outside the 64-bit integer range")
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int) and abs(value) > _MAX_EXACT_FLOAT_INT:
        raise ValueError("an integer above 2^53 cannot be stored exactly in a float64 column")
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    raise ValueError("not a number")


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError("not a boolean")


def parse_datetime(value: Any) -> datetime.datetime | None:
    """An aware datetime from an RFC 3339 string (naive means UTC; beyond µs is truncated)."""
    if value is None or isinstance(value, datetime.datetime):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value
    if not isinstance(value, str):
        raise ValueError("not an RFC 3339 date-time string")
    text = value.strip().upper().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # keep at most 6 fractional digits: Delta timestamps are microseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _date(value: Any) -> datetime.date | None:
    if value is None or (isinstance(value, datetime.date)
                         and not isinstance(value, datetime.datetime)):
        return value
    if isinstance(value, str):
        return datetime.date.fromisoformat(value.strip())
    raise ValueError("not a YYYY-MM-DD date string")


def _binary(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError("not valid base64") from exc
    raise ValueError("not a base64 string")


_FALLBACKS: dict[str, Callable[[Any], Any]] = {
    STRING: _text, TEXT: _text, NULL: _text, JSON: _json_text, INTEGER: _integer,
    NUMBER: _number, BOOLEAN: _boolean, DATETIME: parse_datetime, DATE: _date, BINARY: _binary,
}


def _per_value(values: Sequence[Any], column: Column, path: str) -> pa.Array:
    convert = _FALLBACKS[column.kind]
    converted = []
    for value in values:
        try:
            converted.append(convert(value))
        except (ValueError, TypeError, OverflowError, decimal.InvalidOperation) as exc:
            raise ValueConversionError(
                f"column {path!r}: value {_shown(value)} does not fit type "
                f"{column.type} ({exc})"
            ) from None
    try:
        return pa.array(converted, type=column.type)
    except _ARROW_ERRORS as exc:
        raise ValueConversionError(f"column {path!r}: {exc}") from None


def _struct(values: Sequence[Any], column: Column, path: str) -> pa.Array:
    mask = [value is None for value in values]
    for value in values:
        if value is not None and not isinstance(value, dict):
            raise ValueConversionError(
                f"column {path!r}: value {_shown(value)} is not an object"
            )
    children = [
        column_array([None if v is None else v.get(name) for v in values], child,
                     f"{path}.{name}")
        for name, child in column.fields
    ]
    fields = [pa.field(name, child.type) for name, child in column.fields]
    return pa.StructArray.from_arrays(children, fields=fields,
                                      mask=pa.array(mask, pa.bool_()) if any(mask) else None)


def _list(values: Sequence[Any], column: Column, path: str) -> pa.Array:
    assert column.item is not None
    offsets, flat, nulls, end = [0], [], [], 0
    for value in values:
        if value is None:
            nulls.append(True)
        elif isinstance(value, list | tuple):
            nulls.append(False)
            flat.extend(value)
            end += len(value)
        else:
            raise ValueConversionError(f"column {path!r}: value {_shown(value)} is not an array")
        offsets.append(end)
    items = column_array(flat, column.item, f"{path}[]")
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), items, type=column.type,
        mask=pa.array(nulls, pa.bool_()) if any(nulls) else None,
    )


def column_array(values: Sequence[Any], column: Column, path: str) -> pa.Array:
    """Arrow array of ``column.type`` holding ``values`` (Python values of one column)."""
    kind = column.kind
    if kind == STRUCT:
        return _struct(values, column, path)
    if kind == LIST:
        return _list(values, column, path)
    if kind == JSON:
        return _per_value(values, column, path)
    if kind == BINARY:
        return _per_value(values, column, path)
    try:
        if kind in (DATETIME, DATE):
            return pc.cast(pa.array(values, type=pa.string()), column.type)
        if kind in _INFERRED:
            # Arrow's typed conversion would truncate 1.5 into an int64 and take True as 1.0;
            # its type inference is strict, so infer, then accept only the expected types.
            array = pa.array(values)
            if array.type in _INFERRED[kind] and (kind != NUMBER or _exact_in_float(array)):
                return array.cast(column.type)
            return _per_value(values, column, path)
        return pa.array(values, type=column.type)
    except _ARROW_ERRORS:
        return _per_value(values, column, path)


_INFERRED = {
    INTEGER: {pa.int64(), pa.null()},
    NUMBER: {pa.float64(), pa.int64(), pa.null()},
    BOOLEAN: {pa.bool_(), pa.null()},
}


def _exact_in_float(array: pa.Array) -> bool:
    """False for integers beyond ±2^53 (which float64 would round)."""
    if array.type != pa.int64() or array.null_count == len(array):
        return True
    bounds = pc.min_max(array)
    return max(-bounds["min"].as_py(), bounds["max"].as_py()) <= _MAX_EXACT_FLOAT_INT


def record_batch(records: Sequence[dict], layout: StreamLayout) -> pa.RecordBatch:
    """One record batch of ``layout.schema`` from ``records`` (missing keys are null)."""
    arrays = [
        column_array([record.get(name) for record in records], column, name)
        for name, column in layout.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=layout.schema)
