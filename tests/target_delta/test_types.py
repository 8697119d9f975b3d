"""Singer schema → Arrow types, and every value read back from the Delta table as written."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io

import pyarrow as pa
import pytest

from rest_api_core.arrow.convert import ValueConversionError, record_batch
from rest_api_core.arrow.schema import TIMESTAMP, column_for, stream_layout
from target_delta.reader import FastSingerReader
from tests.target_delta.conftest import lines, read_table, record_msg, rows, run_target, schema_msg

UTC = dt.timezone.utc

# The spec's nine types as tap-rest-api declares them (nullable unless `nullable: false`).
SPEC_PROPERTIES = {
    "id": {"type": ["integer"]},                                               # long
    "name": {"type": ["string", "null"]},                                      # string
    "count": {"type": ["integer", "null"]},                                    # integer
    "ratio": {"type": ["number", "null"]},                                     # float
    "score": {"type": ["number", "null"]},                                     # double
    "active": {"type": ["boolean", "null"]},                                   # boolean
    "created_at": {"type": ["string", "null"], "format": "date-time"},         # timestamp
    "birthday": {"type": ["string", "null"], "format": "date"},                # date
    "avatar": {"type": ["string", "null"], "contentEncoding": "base64"},       # binary
    "address": {"type": ["object", "null"], "properties": {
        "city": {"type": ["string", "null"]},
        "geo": {"type": ["object", "null"], "properties": {
            "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]}}},
        "since": {"type": ["string", "null"], "format": "date-time"},
    }},
    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    "orders": {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "sku": {"type": "string"}, "qty": {"type": "integer"},
        "paid": {"type": ["string", "null"], "format": "date"}}}},
    "extra": {"type": ["object", "null"]},                                     # free-form
    "nothing": {"type": "null"},
}

EXPECTED_TYPES = {
    "id": pa.int64(), "name": pa.string(), "count": pa.int64(), "ratio": pa.float64(),
    "score": pa.float64(), "active": pa.bool_(), "created_at": TIMESTAMP,
    "birthday": pa.date32(), "avatar": pa.binary(),
    "address": pa.struct([
        ("city", pa.string()),
        ("geo", pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
        ("since", TIMESTAMP),
    ]),
    "tags": pa.list_(pa.field("element", pa.string())),
    "orders": pa.list_(pa.field("element", pa.struct([
        ("sku", pa.string()), ("qty", pa.int64()), ("paid", pa.date32())]))),
    "extra": pa.string(), "nothing": pa.string(),
}

BIG = 2**53 + 1  # not representable as a double: must stay exact as int64
RECORDS = [
    {"id": BIG, "name": "Zoë \"quoted\" 简单", "count": -(2**63), "ratio": 0.1,
     "score": 1e300, "active": True, "created_at": "2024-02-29T23:59:59.999999Z",
     "birthday": "2000-02-29", "avatar": base64.b64encode(b"\x00\xffbytes").decode(),
     "address": {"city": "Lyon", "geo": {"lat": 45.76, "lon": 4.84},
                 "since": "2020-01-01T01:00:00+01:00"},
     "tags": ["a", "b"],
     "orders": [{"sku": "x", "qty": 2**62, "paid": "2024-01-01"},
                {"sku": "y", "qty": 0, "paid": None}],
     "extra": {"k": [1, {"n": None}], "s": "v"}, "nothing": None},
    {"id": 2, "name": None, "count": None, "ratio": None, "score": None, "active": None,
     "created_at": None, "birthday": None, "avatar": None, "address": None, "tags": None,
     "orders": None, "extra": None, "nothing": None},
    {"id": 3, "name": "", "count": 2**63 - 1, "ratio": -0.0, "score": 3, "active": False,
     "created_at": "2024-01-01 12:00:00+00:00", "birthday": "1970-01-01", "avatar": "",
     "address": {"city": None, "geo": None, "since": None}, "tags": [],
     "orders": [], "extra": {}},  # "nothing" missing entirely
]
EXPECTED_ROWS = [
    {"id": 2, "name": None, "count": None, "ratio": None, "score": None, "active": None,
     "created_at": None, "birthday": None, "avatar": None, "address": None, "tags": None,
     "orders": None, "extra": None, "nothing": None},
    {"id": 3, "name": "", "count": 2**63 - 1, "ratio": -0.0, "score": 3.0, "active": False,
     "created_at": dt.datetime(2024, 1, 1, 12, tzinfo=UTC), "birthday": dt.date(1970, 1, 1),
     "avatar": b"", "address": {"city": None, "geo": None, "since": None}, "tags": [],
     "orders": [], "extra": "{}", "nothing": None},
    {"id": BIG, "name": "Zoë \"quoted\" 简单", "count": -(2**63), "ratio": 0.1,
     "score": 1e300, "active": True,
     "created_at": dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
     "birthday": dt.date(2000, 2, 29), "avatar": b"\x00\xffbytes",
     "address": {"city": "Lyon", "geo": {"lat": 45.76, "lon": 4.84},
                 "since": dt.datetime(2020, 1, 1, 0, 0, tzinfo=UTC)},
     "tags": ["a", "b"],
     "orders": [{"sku": "x", "qty": 2**62, "paid": dt.date(2024, 1, 1)},
                {"sku": "y", "qty": 0, "paid": None}],
     "extra": '{"k":[1,{"n":null}],"s":"v"}', "nothing": None},
]


def _utc(row: dict) -> dict:
    """Timestamps read back carry a ZoneInfo('UTC'); compare them as plain UTC datetimes."""
    def fix(value: object) -> object:
        if isinstance(value, dt.datetime):
            return value.astimezone(UTC)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value
    return fix(row)


def test_every_spec_type_nested_value_and_null_round_trips(tmp_path):
    path = tmp_path / "table"
    run_target({"path": str(path)},
               [schema_msg("s", SPEC_PROPERTIES), *(record_msg("s", r) for r in RECORDS)])

    table = read_table(path)
    assert {f.name: f.type for f in table.schema} == EXPECTED_TYPES
    assert table.schema.names == list(SPEC_PROPERTIES)  # SCHEMA order kept
    got = [_utc(r) for r in rows(path)]
    assert got == EXPECTED_ROWS
    assert type(got[2]["id"]) is int and got[2]["id"] == 9007199254740993


def test_arrow_schema_comes_from_the_schema_not_the_data():
    layout = stream_layout({"properties": SPEC_PROPERTIES})
    assert dict(zip(layout.schema.names, layout.schema.types, strict=True)) == EXPECTED_TYPES
    assert all(field.nullable for field in layout.schema)
    # A batch of nothing but nulls still has the declared types.
    batch = record_batch([{"id": 1}], layout)
    assert batch.schema == layout.schema


@pytest.mark.parametrize(("prop", "expected"), [
    ({"type": ["integer", "number", "null"]}, pa.float64()),
    ({"anyOf": [{"type": "integer"}, {"type": "number"}]}, pa.float64()),
    ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]},
     pa.string()),
    ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}, TIMESTAMP),
    ({"type": ["string", "integer"]}, pa.string()),
    ({}, pa.string()),
    ({"type": "object", "properties": {}}, pa.string()),
    ({"type": "array"}, pa.list_(pa.field("element", pa.string()))),
    ({"type": ["null"]}, pa.string()),
    ({"type": "string", "format": "time"}, pa.string()),
])
def test_other_json_schema_shapes(prop, expected):
    assert column_for(prop).type == expected


def test_mixed_column_keeps_strings_and_writes_other_values_as_json():
    layout = stream_layout({"properties": {"v": {"type": ["string", "integer", "object"]}}})
    batch = record_batch([{"v": "a"}, {"v": 5}, {"v": {"x": True}}, {"v": None}], layout)
    assert batch.column(0).to_pylist() == ["a", "5", '{"x":true}', None]


def test_decimals_from_the_sdk_msgspec_reader_are_converted():
    layout = stream_layout({"properties": {"n": {"type": "number"}, "i": {"type": "integer"},
                                           "o": {"type": "object"}}})
    batch = record_batch([{"n": decimal.Decimal("1.25"), "i": decimal.Decimal("7"),
                           "o": {"d": decimal.Decimal("0.5")}}], layout)
    assert batch.to_pylist() == [{"n": 1.25, "i": 7, "o": '{"d":0.5}'}]


def test_rfc3339_variants_parse_to_utc_microseconds():
    layout = stream_layout({"properties": {"t": {"type": "string", "format": "date-time"}}})
    values = ["2024-01-01T00:00:00Z", "2024-01-01t02:00:00+02:00", "2024-01-01T00:00:00",
              "2024-01-01T00:00:00.1234567Z"]
    batch = record_batch([{"t": v} for v in values], layout)
    got = [v.astimezone(UTC) for v in batch.column(0).to_pylist()]
    assert got[:3] == [dt.datetime(2024, 1, 1, tzinfo=UTC)] * 3
    assert got[3] == dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("prop", "value", "message"), [
    ({"type": "integer"}, "12x", "column 'c': value '12x'"),
    ({"type": "integer"}, 1.5, "column 'c': value 1.5"),
    ({"type": "integer"}, 2**64, "does not fit type int64"),
    ({"type": "number"}, 2**60, "above 2^53"),
    ({"type": "boolean"}, "yes", "column 'c'"),
    ({"type": "string", "format": "date-time"}, "yesterday", "value 'yesterday'"),
    ({"type": "string", "format": "date"}, "2024-02-30", "value '2024-02-30'"),
    ({"type": "string", "contentEncoding": "base64"}, "@@@", "not valid base64"),
    ({"type": "object", "properties": {"a": {"type": "integer"}}}, {"a": "x"},
     "column 'c.a'"),
    ({"type": "array", "items": {"type": "integer"}}, [1, "x"], "column 'c[]'"),
])
def test_a_value_that_does_not_fit_is_an_error_naming_the_column(prop, value, message):
    layout = stream_layout({"properties": {"c": prop}})
    with pytest.raises(ValueConversionError) as caught:
        record_batch([{"c": value}], layout)
    assert message in str(caught.value)


def test_reader_keeps_big_integers_exact_and_floats_as_floats():
    reader = FastSingerReader()
    message = reader.deserialize_json(b'{"type":"RECORD","record":{"a":18446744073709551615,'
                                      b'"b":9007199254740993,"c":0.1}}')
    assert message["record"] == {"a": 18446744073709551615, "b": 9007199254740993, "c": 0.1}
    assert isinstance(message["record"]["c"], float)


def test_reader_reads_text_and_bytes_inputs(tmp_path):
    path = tmp_path / "t"
    messages = [schema_msg("s", {"id": {"type": "integer"}}), record_msg("s", {"id": 1})]
    run_target({"path": str(path)}, messages)
    from target_delta.target import TargetDelta

    target = TargetDelta(config={"path": str(path)})
    target.listen(io.BytesIO(lines([messages[0], record_msg("s", {"id": 2})]).encode()))
    assert [r["id"] for r in rows(path)] == [1, 2]
