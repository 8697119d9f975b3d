"""YAML loading: duplicate keys, anchors, tags, syntax errors, lines of values."""

from __future__ import annotations

import datetime

import pytest

from rest_connector.pipeline.load import load_yaml
from rest_connector.pipeline.problems import PipelineError


def problems_of(text: str) -> list[str]:
    with pytest.raises(PipelineError) as raised:
        load_yaml(text, "p.yml")
    return [str(problem) for problem in raised.value.problems]


def test_values_keep_their_lines_and_unquoted_non_strings_their_text():
    loaded = load_yaml("a:\n  flag: NO\n  zip: 012345\n  day: 2025-01-01\n  text: 'NO'\n")
    assert loaded.data == {"a": {"flag": False, "zip": 5349, "day": datetime.date(2025, 1, 1),
                                 "text": "NO"}}
    assert loaded.lines[("a", "zip")] == 3
    assert loaded.plain_scalars == {("a", "flag"): "NO", ("a", "zip"): "012345",
                                    ("a", "day"): "2025-01-01"}
    assert loaded.line_of(("a", "missing", "deeper")) == 1


def test_duplicate_keys_are_rejected_with_both_lines():
    assert problems_of("a:\n  b: 1\n  b: 2\n") == [
        "line 3: a.b: duplicate key 'b' (first defined on line 2); each key may appear once"]


def test_anchors_and_aliases_are_rejected():
    found = problems_of("base: &b {x: 1}\nother: *b\n")
    assert found == ["line 1: anchors and aliases (&name, *name) are not supported: "
                     "write the value out in full",
                     "line 2: anchors and aliases (&name, *name) are not supported: "
                     "write the value out in full"]


@pytest.mark.parametrize("tagged", ["!!python/object/apply:os.system ['id']", "!custom 1",
                                    "!!binary aGk="])
def test_non_standard_tags_are_rejected(tagged):
    [problem] = problems_of(f"x:\n  y: {tagged}\n")
    assert problem.startswith("line 2: x.y: the YAML tag ")
    assert "is not supported" in problem


def test_a_key_yaml_turns_into_a_boolean_must_be_quoted():
    assert problems_of("on: 1\n") == ['line 1: the key \'on\' is not a string: quote it ("on")']


def test_syntax_error_names_the_line():
    [problem] = problems_of("a: [1, 2\nb: 3\n")
    assert problem.startswith("line 2: invalid YAML")


def test_one_problem_per_line_and_at_most_twenty_listed():
    text = "a: &a 1\nb: [*a, *a, *a]\n" + "".join(f"k{n}: *a\n" for n in range(30))
    with pytest.raises(PipelineError) as raised:
        load_yaml(text, "p.yml")
    assert [p.line for p in raised.value.problems] == list(range(1, 33))
    message = str(raised.value)
    assert message.startswith("p.yml: 32 problems\n")
    assert message.count("anchors and aliases") == 20
    assert message.endswith("\n  … and 12 more")
