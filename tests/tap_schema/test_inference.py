"""InferredSchema: inferred from the first page, widened by later records, values untouched."""

from __future__ import annotations

import copy
import json
import random

import pytest
from singer_sdk.sinks.core import JSONSchemaValidator

from tap_rest_api.inference import InferredSchema, string_format


def inferred(*records: dict) -> InferredSchema:
    schema = InferredSchema()
    schema.observe_page(list(records))
    return schema


def props(schema: InferredSchema) -> dict:
    return schema.schema["properties"]


def test_first_page_union_of_fields_with_nested_objects_and_arrays():
    schema = inferred(
        {"id": 1, "name": "Ann", "address": {"city": "Oslo"}, "tags": ["a"]},
        {"id": 2, "active": True, "address": {"zip": "0150"}, "scores": [1.5, 2]},
    )
    assert schema.schema == {"type": "object", "properties": {
        "id": {"type": ["integer", "null"]},
        "name": {"type": ["string", "null"]},
        "address": {"type": ["object", "null"], "properties": {
            "city": {"type": ["string", "null"]},
            "zip": {"type": ["string", "null"]},
        }},
        "tags": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "active": {"type": ["boolean", "null"]},
        "scores": {"type": ["array", "null"], "items": {"type": ["number", "null"]}},
    }}


def test_empty_first_page_gives_an_empty_object_schema():
    assert inferred().schema == {"type": "object", "properties": {}}


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T10:00:00Z", "date-time"),
    ("2024-05-01T10:00:00.123456+02:00", "date-time"),
    ("2024-05-01T10:00:00-05:00", "date-time"),
    ("2024-05-01", "date"),
    ("2024-05-01T10:00:00", None),               # no offset: which instant is unknown
    ("2024-05-01T10:00:00.123456789Z", None),    # nanoseconds: a timestamp column would cut them
    ("2024-05-01 10:00:00Z", None),
    ("2024-02-30", None),
    ("2024-13-01T10:00:00Z", None),
    ("20240501", None),
    ("2024-5-1", None),
    ("hello", None),
])
def test_string_formats(text, expected):
    assert string_format(text) == expected


def test_formats_are_inferred_on_fields_and_nested_fields():
    schema = inferred({"at": "2024-05-01T10:00:00Z", "day": "2024-05-01",
                       "nested": {"at": "2024-05-01T10:00:00Z"}, "days": ["2024-05-01"]})
    p = props(schema)
    assert p["at"] == {"type": ["string", "null"], "format": "date-time"}
    assert p["day"] == {"type": ["string", "null"], "format": "date"}
    assert p["nested"]["properties"]["at"]["format"] == "date-time"
    assert p["days"]["items"] == {"type": ["string", "null"], "format": "date"}


def test_one_non_date_string_on_the_first_page_makes_a_plain_string():
    schema = inferred({"at": "2024-05-01T10:00:00Z"}, {"at": "soon"}, {"at": "2024-05-02"})
    assert props(schema)["at"] == {"type": ["string", "null"]}


def test_field_only_seen_as_null():
    assert props(inferred({"x": None}, {"x": None}))["x"] == {"type": ["null"]}


def test_fit_is_false_for_records_that_fit():
    schema = inferred({"id": 1, "score": 1.5, "at": "2024-05-01T10:00:00Z", "n": None,
                       "obj": {"a": "x"}, "list": [1]})
    before = copy.deepcopy(schema.schema)
    for record in ({"id": 2, "score": 3, "at": "2025-01-01T00:00:00+01:00", "obj": {},
                    "list": []}, {}, {"id": None, "obj": None, "list": None}):
        assert schema.fit(record) is False
    assert schema.schema == before


WIDENINGS = [
    (1, 2.5, {"type": ["number", "null"]}),
    (None, 5, {"type": ["integer", "null"]}),
    (None, "2024-05-01", {"type": ["string", "null"], "format": "date"}),
    ("2024-05-01T10:00:00Z", "later", {"type": ["string", "null"]}),
    ("2024-05-01T10:00:00Z", "2024-05-01", {"type": ["string", "null"]}),
    ("2024-05-01", "2024-05-01T10:00:00Z", {"type": ["string", "null"]}),
    ("x", 1, {"type": ["string", "integer", "null"]}),
    (1, "x", {"type": ["string", "integer", "null"]}),
    (1.5, "x", {"type": ["string", "number", "null"]}),
    (True, 1, {"type": ["integer", "boolean", "null"]}),
    ({"a": 1}, "x", {"type": ["string", "object", "null"], "properties": {
        "a": {"type": ["integer", "null"]}}}),
    ("x", [1], {"type": ["string", "array", "null"], "items": {"type": ["integer", "null"]}}),
    ([1], [1.5, "x"], {"type": ["array", "null"], "items": {"type": ["string", "number", "null"]}}),
    ([], [{"a": 1}], {"type": ["array", "null"], "items": {
        "type": ["object", "null"], "properties": {"a": {"type": ["integer", "null"]}}}}),
]


@pytest.mark.parametrize(("first", "later", "expected"), WIDENINGS)
def test_widening(first, later, expected):
    schema = inferred({"v": first})
    assert schema.fit({"v": later}) is True
    assert props(schema)["v"] == expected
    assert schema.fit({"v": later}) is False
    assert schema.fit({"v": first}) is False


def test_new_fields_and_nested_objects_widen_recursively():
    schema = inferred({"id": 1, "a": {"b": {"c": 1}}})
    assert schema.fit({"id": 2, "a": {"b": {"c": 1.5, "d": "x"}}, "new": True}) is True
    assert props(schema) == {
        "id": {"type": ["integer", "null"]},
        "a": {"type": ["object", "null"], "properties": {
            "b": {"type": ["object", "null"], "properties": {
                "c": {"type": ["number", "null"]},
                "d": {"type": ["string", "null"]},
            }},
        }},
        "new": {"type": ["boolean", "null"]},
    }


def test_values_are_never_converted():
    big = 2**53 + 1
    record = {"id": big, "mixed": 1, "deep": {"list": [big, 0.5]}}
    original = copy.deepcopy(record)
    schema = inferred({"id": 1, "mixed": 0.5, "deep": {"list": [1]}})
    schema.fit(record)
    assert record == original
    assert type(record["id"]) is int and record["deep"]["list"][0] == big
    assert json.loads(json.dumps(record))["id"] == big


def test_every_record_seen_validates_against_the_final_schema():
    records = [
        {"id": 1, "at": "2024-05-01T10:00:00Z", "tags": ["a"], "o": {"x": 1}},
        {"id": 2.5, "at": "not a date", "tags": [1, None], "o": {"y": [{"z": True}]}},
        {"id": "three", "at": None, "tags": None, "o": "flat", "n": None},
        {"extra": {"deep": {"deeper": [[1, 2], ["x"]]}}},
    ]
    schema = inferred(records[0])
    for record in records[1:]:
        schema.fit(record)
    validator = JSONSchemaValidator(schema.schema, validate_formats=True)
    for record in records:
        validator.validate(record)


def test_schema_is_rebuilt_only_after_a_widening():
    schema = inferred({"id": 1})
    first = schema.schema
    schema.fit({"id": 2})
    assert schema.schema is first
    schema.fit({"id": "x"})
    assert schema.schema is not first


def test_non_json_values_are_refused():
    with pytest.raises(TypeError, match="not a JSON value: set"):
        inferred({"v": {1}})


@pytest.mark.parametrize(("first", "later"), [(first, later) for first, later, _ in WIDENINGS])
def test_a_page_with_a_widening_value_is_not_covered(first, later):
    schema = inferred({"v": first})
    assert schema.covers([{"v": first}, {"v": None}, {}]) is True
    assert schema.covers([{"v": first}, {"v": later}, {}]) is False
    schema.fit({"v": later})
    assert schema.covers([{"v": first}, {"v": later}, {"v": None}]) is True


def _random_value(rng: random.Random, depth: int = 0):
    kinds = ["int", "float", "text", "date", "bad date", "bool", "null", "big"]
    if depth < 2:
        kinds += ["object", "array"]
    kind = rng.choice(kinds)
    if kind == "object":
        return {rng.choice("pq"): _random_value(rng, depth + 1) for _ in range(2)}
    if kind == "array":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    return {"int": rng.randint(-3, 3), "float": rng.random(), "bool": rng.random() < 0.5,
            "text": rng.choice(["x", "", "2025-01-02", "2025-01-02T03:04:05Z"]),
            "date": "2025-01-02T03:04:05.1234567Z", "bad date": "2025-02-30",
            "null": None, "big": 2**70}[kind]


def test_covers_says_exactly_whether_fitting_the_page_would_widen():
    """The page check that lets the tap skip ``fit`` must never miss a widening (a record
    would then leave the SCHEMA), nor report one that ``fit`` would not make."""
    rng = random.Random(7)
    for _ in range(3000):
        schema = InferredSchema()
        schema.observe_page([{rng.choice("abc"): _random_value(rng) for _ in range(3)}
                             for _ in range(rng.randint(1, 4))])
        page = [{rng.choice("abcd"): _random_value(rng) for _ in range(3)}
                for _ in range(rng.randint(0, 4))]
        refitted = copy.deepcopy(schema)
        widens = any([refitted.fit(record) for record in page])
        assert schema.covers(page) is not widens, page
