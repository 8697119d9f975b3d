"""A generated 10 MB spec (thousands of operations, every schema behind a ``$ref``): init
writes every list endpoint and its peak memory stays far under 1 GB. Its time is printed, not
asserted (see README for the figures)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from tests.conftest import BIN, run_with_peak_rss

TARGET_BYTES = 10 * 1024 * 1024
FIELDS = 40


def _resource(n: int) -> tuple[dict, dict]:
    """Paths and schemas for resource ``n``: a list, its children, one record."""
    name = f"thing{n}s"
    schema = {"type": "object", "properties": {
        "id": {"type": "string"}, "created": {"type": "string", "format": "date-time"},
        **{f"field_{k}": {"type": ["integer", "string", "boolean", "number"][k % 4],
                          "description": f"Field {k} of resource {n}, described at length as "
                                         f"generated specs do."} for k in range(FIELDS)}}}
    listing = {"type": "object", "properties": {
        "data": {"type": "array", "items": {"$ref": f"#/components/schemas/Thing{n}"}},
        "has_more": {"type": "boolean"}}}
    params = [{"name": "starting_after", "in": "query", "schema": {"type": "string"}},
              {"name": "limit", "in": "query", "schema": {"type": "integer"}}]
    answer = {"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/Thing{n}List"}}}}}
    single = {"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/Thing{n}"}}}}}
    paths = {
        f"/v1/{name}": {"get": {"operationId": f"list{n}", "parameters": params,
                                "responses": answer}},
        f"/v1/{name}/{{thing{n}_id}}": {"get": {"responses": single}},
        f"/v1/{name}/{{thing{n}_id}}/parts": {"get": {
            "parameters": [{"name": f"thing{n}_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}, *params],
            "responses": answer}},
    }
    return paths, {f"Thing{n}": schema, f"Thing{n}List": listing}


def generate(path: Path) -> int:
    """Write a spec of about 10 MB to ``path``; the number of resources in it."""
    document = {"openapi": "3.0.3", "info": {"title": "Huge API", "version": "1"},
                "servers": [{"url": "https://huge.example.com"}],
                "components": {"securitySchemes": {"k": {"type": "http", "scheme": "bearer"}},
                               "schemas": {}},
                "security": [{"k": []}], "paths": {}}
    count = 0
    while count % 50 or len(json.dumps(document)) < TARGET_BYTES:
        paths, schemas = _resource(count)
        document["paths"].update(paths)
        document["components"]["schemas"].update(schemas)
        count += 1
    path.write_text(json.dumps(document, indent=1))
    return count


def test_a_10_mb_spec_is_read_and_written_in_bounded_memory(tmp_path):
    spec = tmp_path / "huge.json"
    resources = generate(spec)
    assert spec.stat().st_size >= TARGET_BYTES
    output = tmp_path / "pipeline.yml"
    started = time.monotonic()
    result, peak_kib = run_with_peak_rss([str(BIN / "rest-connector"), "init", "--openapi",
                                          str(spec), "--output", str(output)])
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    print(f"\n{spec.stat().st_size / 2**20:.1f} MB spec, {3 * resources} operations: "
          f"{elapsed:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 1024 * 1024
    inputs = yaml.load(output.read_text(), Loader=yaml.CSafeLoader)["CONFIG"]["inputs"]
    assert len(inputs) == 2 * resources
    assert f"Wrote {output}: {2 * resources} inputs".encode() in result.stdout
    assert b"Not checked: " in result.stdout
    assert inputs["thing7s_parts"]["parent"] == "thing7s"
    assert inputs["thing7s_parts"]["url"].endswith("/v1/thing7s/{parent.id}/parts")
