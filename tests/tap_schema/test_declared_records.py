"""DeclaredRecords.conform: records held to the declared schema, coerced only without loss."""

from __future__ import annotations

import datetime
import logging

import pytest
from singer_sdk.sinks.core import JSONSchemaValidator

from tap_rest_api import coercion
from tap_rest_api.schema import DeclaredRecords, RecordSchemaError, declared_schema

LOGGER = logging.getLogger("tests.tap_schema")


def records_for(*fields: tuple[str, str], primary_keys=(), nullable=True) -> DeclaredRecords:
    schema = declared_schema(
        [{"name": name, "type": kind, "nullable": nullable} for name, kind in fields], "s")
    return DeclaredRecords("users", schema, LOGGER, primary_keys=primary_keys)


def conform_one(kind: str, value):
    return records_for(("v", kind)).conform({"v": value}, 1)["v"]


def rejection(kind: str, value) -> str:
    with pytest.raises(RecordSchemaError) as raised:
        conform_one(kind, value)
    return str(raised.value)


def test_values_of_the_right_type_pass_untouched():
    conformer = records_for(("id", "long"), ("name", "string"), ("score", "double"),
                            ("ok", "boolean"), ("at", "timestamp"), ("day", "date"),
                            ("blob", "binary"), ("meta", "object"), ("tags", "array"))
    meta, tags = {"a": {"b": [1]}}, ["x", 2]
    record = {"id": 2**63 + 1, "name": "Ann", "score": 1, "ok": False,
              "at": "2024-05-01T10:00:00.123456+02:00", "day": "2024-02-29", "blob": "aGk=",
              "meta": meta, "tags": tags}
    expected = dict(record)
    assert conformer.conform(record, 1) == expected
    assert record["meta"] is meta and record["tags"] is tags


def test_nulls_pass_in_nullable_fields():
    conformer = records_for(("id", "long"), ("at", "timestamp"), ("blob", "binary"))
    assert conformer.conform({"id": None, "at": None, "blob": None}, 1) == {
        "id": None, "at": None, "blob": None}


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("string", {"b": [1, "é"], "a": None}, '{"b":[1,"é"],"a":null}'),
    ("string", [1, 2], "[1,2]"),
    ("string", 42, "42"),
    ("string", 2**70, str(2**70)),
    ("string", 1.5, "1.5"),
    ("string", True, "true"),
    ("long", "42", 42),
    ("long", "-7", -7),
    ("integer", "123456789012345678901234567890", 123456789012345678901234567890),
    ("integer", 42.0, 42),
    ("double", "3.25", 3.25),
    ("double", "1e-3", 0.001),
    ("double", "42", 42),
    ("float", "0.1", 0.1),
    ("boolean", "true", True),
    ("boolean", "FALSE", False),
    ("boolean", 1, True),
    ("boolean", 0, False),
    ("timestamp", "2024-05-01 10:00:00Z", "2024-05-01T10:00:00Z"),
    ("timestamp", "2024-05-01t10:00:00z", "2024-05-01T10:00:00Z"),
    ("timestamp", 0, "1970-01-01T00:00:00Z"),
    ("timestamp", 1714557600, "2024-05-01T10:00:00Z"),
    ("timestamp", 1714557600.25, "2024-05-01T10:00:00.250000Z"),
])
def test_lossless_coercions(kind, value, expected):
    result = conform_one(kind, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("long", "042", "expected an integer"),
    ("long", "4.0", "expected an integer"),
    ("long", 4.5, "expected an integer"),
    ("long", True, "expected an integer"),
    ("long", " 4", "expected an integer"),
    ("long", "1_000", "expected an integer"),
    ("double", "0.1000000000000000055511151231257827", "would be rounded"),
    ("double", "NaN", "expected a number"),
    ("double", "1e400", "would be rounded"),
    ("double", False, "expected a number"),
    ("boolean", "yes", "expected a boolean"),
    ("boolean", 2, "expected a boolean"),
    ("timestamp", "2024-05-01T10:00:00", "RFC 3339 date-time with offset"),
    ("timestamp", "2024-02-30T10:00:00Z", "RFC 3339"),
    ("timestamp", "yesterday", "RFC 3339"),
    ("timestamp", 1714557600123, "milliseconds?"),
    ("timestamp", 1714557600.1234567, "microsecond precision"),
    ("date", "2024-05-01T00:00:00Z", "expected a date YYYY-MM-DD"),
    ("date", "2023-02-29", "expected a date"),
    ("binary", "not base64!", "expected standard base64"),
    ("binary", "aGk", "expected standard base64"),
    ("object", "{}", "expected a JSON object"),
    ("object", [1], "expected a JSON object"),
    ("array", {"a": 1}, "expected a JSON array"),
    ("string", 3j, "expected a string"),
])
def test_values_that_would_lose_something_are_errors(kind, value, expected):
    message = rejection(kind, value)
    assert expected in message
    assert message.startswith("Stream 'users', record #1 of the stream on page 1, field 'v': ")


def test_error_names_the_primary_key_when_the_record_has_one():
    conformer = records_for(("id", "long"), ("region", "string"), ("age", "integer"),
                            primary_keys=["id", "region"])
    conformer.conform({"id": 1, "region": "eu", "age": 3}, 4)
    with pytest.raises(RecordSchemaError) as raised:
        conformer.conform({"id": 7, "region": "eu", "age": "old"}, 4)
    assert str(raised.value) == (
        "Stream 'users', record id=7, region='eu' on page 4, field 'age': expected an integer "
        "(or an integer-valued number or string), got string 'old'")


def test_error_falls_back_to_the_position_and_shortens_long_values():
    conformer = records_for(("id", "long"), ("age", "integer"), primary_keys=["id"])
    for _ in range(3):
        conformer.conform({"id": 1, "age": 3})
    with pytest.raises(RecordSchemaError) as raised:
        conformer.conform({"age": "x" * 500})
    message = str(raised.value)
    assert message.startswith("Stream 'users', record #4 of the stream, field 'age': ")
    assert len(message) < 250 and message.endswith("...")


def test_not_nullable_fields_must_be_present_and_not_null():
    conformer = records_for(("id", "long"), ("name", "string"), nullable=False)
    with pytest.raises(RecordSchemaError, match="field 'id': null, but declared nullable: false"):
        conformer.conform({"id": None, "name": "a"}, 2)
    with pytest.raises(RecordSchemaError, match="field 'name': missing, but declared nullable"):
        conformer.conform({"id": 1}, 2)


def test_nullable_fields_may_be_absent():
    assert records_for(("id", "long"), ("name", "string")).conform({"id": 1}, 1) == {"id": 1}


def test_undeclared_fields_are_dropped_with_one_warning_per_field(caplog):
    conformer = records_for(("id", "long"))
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        outputs = [conformer.conform({"id": n, "extra": n, "other": {"x": n}}, 1)
                   for n in range(50)]
    assert outputs == [{"id": n} for n in range(50)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "Stream 'users': dropping field 'extra'" in warnings[0]
    assert "'other'" in warnings[1]


def test_warnings_are_per_stream():
    schema = declared_schema([{"name": "id", "type": "long"}], "s")
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("tests.tap_schema.per_stream")
    logger.addHandler(Collect())
    for stream in ("a", "b"):
        conformer = DeclaredRecords(stream, schema, logger)
        conformer.conform({"id": 1, "extra": 1})
        conformer.conform({"id": 2, "extra": 2})
    assert [m.split(":")[0] for m in seen] == ["Stream 'a'", "Stream 'b'"]


def test_conformed_records_validate_against_the_schema_with_formats():
    fields = [("id", "long"), ("name", "string"), ("score", "double"), ("ok", "boolean"),
              ("at", "timestamp"), ("day", "date"), ("blob", "binary"), ("meta", "object"),
              ("tags", "array")]
    schema = declared_schema([{"name": n, "type": k} for n, k in fields], "s")
    conformer = DeclaredRecords("users", schema, LOGGER)
    validator = JSONSchemaValidator(schema, validate_formats=True)
    raw = [
        {"id": "5", "name": {"x": 1}, "score": "2.5", "ok": "true", "at": 1714557600,
         "day": "2024-05-01", "blob": "AAE=", "meta": {}, "tags": [], "junk": 1},
        {"id": 6.0, "name": 12, "score": 3, "ok": 0, "at": "2024-05-01 10:00:00+05:30"},
    ]
    for record in raw:
        validator.validate(conformer.conform(record, 1))


def test_schema_with_type_lists_tries_each_type():
    schema = {"type": "object", "properties": {
        "v": {"type": ["integer", "boolean", "null"]},
        "free": {},
        "only_null": {"type": "null"},
    }}
    conformer = DeclaredRecords("s", schema, LOGGER)
    assert conformer.conform({"v": "7", "free": {"a": 1}}) == {"v": 7, "free": {"a": 1}}
    assert conformer.conform({"v": "true"}) == {"v": True}
    assert conformer.conform({"v": True, "only_null": None}) == {"v": True, "only_null": None}
    with pytest.raises(RecordSchemaError, match=r"expected an integer.* or expected a boolean"):
        conformer.conform({"v": "maybe"})
    with pytest.raises(RecordSchemaError, match="'only_null': expected null"):
        conformer.conform({"only_null": 1})


DATE_TIMES = [
    ("2024-05-01T10:00:00Z", True),
    ("2024-05-01T10:00:00.5Z", True),
    ("2024-05-01T10:00:00.123456789-03:30", True),
    ("2024-02-29T23:59:59+00:00", True),
    ("2023-02-29T10:00:00Z", False),
    ("2024-05-01T24:00:00Z", False),
    ("2024-05-01T10:00:60Z", False),
    ("2024-05-01T10:00:00", False),
    ("2024-05-01T10:00:00+02", False),
    ("2024-05-01T10:00:00+0200", False),
    ("2024-05-01T10:00:00+24:00", False),
    ("2024-05-01T10:00:00,5Z", False),
    ("2024-05-01T10:00:00.Z", False),
    ("2024-05-01T10:00Z", False),
    ("2024-05-01 10:00:00Z", False),
    ("2024-05-01t10:00:00z", False),
    ("20240501T100000Z", False),
    ("٢٠٢٤-05-01T10:00:00Z", False),
    ("2024-W18-3T10:00:00Z", False),
    ("", False),
]


@pytest.mark.parametrize("parse", [datetime.datetime.fromisoformat,
                                   coercion._parse_by_pattern])
@pytest.mark.parametrize(("text", "valid"), DATE_TIMES)
def test_date_time_check_is_the_same_with_either_instant_parser(text, valid, parse, monkeypatch):
    """The ISO parser (Python 3.11+) and the pattern (3.10) must accept the same strings."""
    monkeypatch.setattr(coercion, "_parse_instant", parse)
    assert coercion.is_date_time(text) is valid


@pytest.mark.parametrize(("text", "valid"), [
    ("2024-05-01", True), ("2024-02-29", True), ("2023-02-29", False), ("2024-5-01", False),
    ("20240501", False), ("2024-W18-3", False), ("٢٠٢٤-05-01", False), ("2024-05-01 ", False),
])
def test_date_check(text, valid):
    assert coercion.is_date(text) is valid
