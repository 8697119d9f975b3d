"""declared_schema: the spec's ``schema:`` list as JSON Schema, and its configuration errors."""

from __future__ import annotations

import pytest
from singer_sdk.sinks.core import JSONSchemaValidator

from rest_api_core.errors import ConfigError
from tap_rest_api.schema import SCHEMA_FIELD_TYPES, declared_schema

PATH = "streams[0].schema"


def test_every_type_maps_onto_json_schema_and_is_nullable_by_default():
    fields = [{"name": kind, "type": kind} for kind in SCHEMA_FIELD_TYPES]
    assert declared_schema(fields, PATH) == {
        "type": "object",
        "properties": {
            "string": {"type": ["string", "null"]},
            "integer": {"type": ["integer", "null"]},
            "long": {"type": ["integer", "null"]},
            "float": {"type": ["number", "null"]},
            "double": {"type": ["number", "null"]},
            "boolean": {"type": ["boolean", "null"]},
            "timestamp": {"type": ["string", "null"], "format": "date-time"},
            "date": {"type": ["string", "null"], "format": "date"},
            "binary": {"type": ["string", "null"], "contentEncoding": "base64"},
            "object": {"type": ["object", "null"]},
            "array": {"type": ["array", "null"]},
        },
    }


def test_spec_types_are_all_accepted():
    spec_nine = {"string", "integer", "long", "float", "double", "boolean", "timestamp", "date",
                 "binary"}
    assert spec_nine < set(SCHEMA_FIELD_TYPES)


def test_nullable_false_makes_the_field_required_and_not_null():
    schema = declared_schema([{"name": "id", "type": "long", "nullable": False},
                              {"name": "note", "type": "string", "nullable": True}], PATH)
    assert schema["properties"]["id"] == {"type": ["integer"]}
    assert schema["properties"]["note"] == {"type": ["string", "null"]}
    assert schema["required"] == ["id"]


def test_field_order_is_kept():
    names = ["zeta", "alpha", "mid"]
    schema = declared_schema([{"name": n, "type": "string"} for n in names], PATH)
    assert list(schema["properties"]) == names


def test_schema_is_accepted_by_the_singer_sdk_validator():
    fields = [{"name": kind, "type": kind, "nullable": kind != "long"}
              for kind in SCHEMA_FIELD_TYPES]
    validator = JSONSchemaValidator(declared_schema(fields, PATH), validate_formats=True)
    validator.validate({"long": 1, "timestamp": "2024-05-01T10:00:00Z", "date": "2024-05-01",
                        "object": {"a": 1}, "array": [1, "x"], "string": None})


def test_unknown_type_is_named_with_a_hint():
    with pytest.raises(ConfigError) as raised:
        declared_schema([{"name": "id", "type": "long"}, {"name": "ts", "type": "timestmp"}], PATH)
    message = str(raised.value)
    assert "streams[0].schema[1].type: unknown type 'timestmp'" in message
    assert "did you mean 'timestamp'?" in message
    assert "expected one of: string, integer" in message


def test_every_problem_is_reported_at_once_with_its_path():
    with pytest.raises(ConfigError) as raised:
        declared_schema([
            {"name": "id", "type": "long"},
            {"type": "string"},
            {"name": "id", "type": "string"},
            {"name": "", "type": "string"},
            {"name": "x", "type": "string", "nulable": False},
            {"name": "y", "type": "string", "nullable": "no"},
            {"name": "z"},
            "just-a-name",
        ], PATH)
    lines = str(raised.value).splitlines()[1:]
    assert [line.strip().split(":")[0] for line in lines] == [
        "streams[0].schema[1].name",
        "streams[0].schema[2].name",
        "streams[0].schema[3].name",
        "streams[0].schema[4].nulable",
        "streams[0].schema[5].nullable",
        "streams[0].schema[6].type",
        "streams[0].schema[7]",
    ]
    text = "\n".join(lines)
    assert "duplicate field 'id' (already declared at streams[0].schema[0])" in text
    assert "did you mean 'nullable'?" in text
    assert "schema[6].type: required" in text


def test_schema_that_is_not_a_list_is_rejected():
    with pytest.raises(ConfigError, match=r"streams\[0\].schema: expected a list"):
        declared_schema({"id": "long"}, PATH)  # type: ignore[arg-type]
