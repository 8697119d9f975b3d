"""The writer's YAML reads back, through the pipeline's own strict loader, as what was written:
no YAML 1.1 boolean, date or number where text was meant, comments where they belong."""

from __future__ import annotations

from rest_connector.init.yaml_writer import write_yaml
from rest_connector.pipeline.load import load_yaml

TRICKY = {"country": "NO", "answer": "yes", "switch": "on", "zip": "012345",
          "when": "2025-01-01", "version": "1.0", "text": "a: b # c", "lines": "one\ntwo",
          "name": "Pokémon", "empty": "", "template": "{{ env.TOKEN }}", "brace": "{parent.id}",
          "number": 7, "ratio": 0.5, "flag": True, "nothing": None}


def test_values_read_back_as_written():
    document = {"CONFIG": {"inputs": {"a": {
        "params": TRICKY, "on": ["NO", 1, "x y"], "page[size]": 100,
        "schema": [{"name": "id", "type": "integer"}, {"name": "yes", "type": "string"}]}}}}
    text = write_yaml(document, {("CONFIG", "inputs", "a", "params"): ["why: a guess"]},
                      ["header line", ""])
    loaded = load_yaml(text, "written.yml")
    assert loaded.data == document
    assert text.startswith("# header line\n#\n")
    assert "      # why: a guess\n      params:\n" in text
