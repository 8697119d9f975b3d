"""SCHEMA messages (declared and inferred), Singer CLI modes, catalog selection, state."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer

from tests.conftest import run_plugin
from tests.tap.conftest import stream

DECLARED = [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string"},
    {"name": "score", "type": "double"},
    {"name": "active", "type": "boolean"},
    {"name": "created_at", "type": "timestamp"},
    {"name": "birthday", "type": "date"},
    {"name": "avatar", "type": "binary"},
    {"name": "count", "type": "integer", "nullable": False},
    {"name": "ratio", "type": "float"},
]


def test_declared_schema_is_emitted_and_enforced(httpserver: HTTPServer, tap):
    httpserver.expect_request("/c").respond_with_json([
        {"id": "42", "name": {"first": "Ada"}, "score": 1, "active": True,
         "created_at": "2025-01-02T03:04:05Z", "birthday": "1990-05-06", "avatar": "aGk=",
         "count": 3, "ratio": 0.5, "undeclared": "dropped"},
        {"id": 43, "name": "Bob", "score": 2.5, "active": False, "created_at": None,
         "birthday": None, "avatar": None, "count": 4, "ratio": None, "undeclared": "x"},
    ])
    run = tap({"streams": [stream("c", httpserver.url_for("/c"), schema=DECLARED,
                                  primary_keys=["id"])]})
    assert run.returncode == 0, run.stderr
    schema_message, = run.of_type("SCHEMA")
    props = schema_message["schema"]["properties"]
    assert props["id"]["type"] == ["integer", "null"]
    assert props["score"]["type"] == ["number", "null"]
    assert props["created_at"]["format"] == "date-time"
    assert props["birthday"]["format"] == "date"
    assert props["avatar"]["contentEncoding"] == "base64"
    assert props["count"]["type"] == ["integer"]
    assert schema_message["key_properties"] == ["id"]
    first, second = run.records()
    assert first["id"] == 42
    assert first["name"] == '{"first":"Ada"}'
    assert "undeclared" not in first and "undeclared" not in second
    assert run.stderr.count("undeclared") == 1  # one warning per field, not per record


def test_value_that_cannot_be_coerced_names_stream_record_and_field(httpserver: HTTPServer, tap):
    httpserver.expect_request("/c").respond_with_json([{"id": 1, "count": 2},
                                                       {"id": 2, "count": "many"}])
    run = tap({"streams": [stream("c", httpserver.url_for("/c"), primary_keys=["id"],
                                  schema=[{"name": "id", "type": "long"},
                                          {"name": "count", "type": "integer"}])]})
    assert run.returncode != 0
    assert "'c'" in run.stderr and "count" in run.stderr and "many" in run.stderr


def test_inferred_schema_widens_before_the_record_that_needs_it(httpserver: HTTPServer, tap):
    def handle(request):
        from werkzeug import Response
        page = int(request.args.get("page", 1))
        pages = {
            1: {"data": [{"id": 1, "amount": 5, "note": None, "at": "2025-01-01T00:00:00Z",
                          "day": "2025-01-01", "tags": ["a"], "owner": {"name": "x"}}],
                "next": "?page=2"},
            2: {"data": [{"id": 2, "amount": 5.5, "note": "now text", "extra": True,
                          "owner": {"name": "y", "age": 3}, "big": 2**63 + 5}],
                "next": None},
        }
        return Response(json.dumps(pages[page]), content_type="application/json")
    httpserver.expect_request("/i").respond_with_handler(handle)
    run = tap({"streams": [stream("i", httpserver.url_for("/i"),
                                  pagination={"type": "next_link"},
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    kinds = [m["type"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")]
    assert kinds == ["SCHEMA", "RECORD", "SCHEMA", "RECORD"]
    first, second = (m["schema"]["properties"] for m in run.of_type("SCHEMA"))
    assert "integer" in first["amount"]["type"] and "number" not in first["amount"]["type"]
    assert "number" in second["amount"]["type"]
    assert first["at"]["format"] == "date-time"
    assert first["day"]["format"] == "date"
    assert "string" in second["note"]["type"]
    assert "extra" in second and "big" in second
    assert "age" in second["owner"]["properties"]
    assert run.records()[1]["big"] == 2**63 + 5
    assert run.records()[1]["amount"] == 5.5


def test_a_widening_record_mid_page_gets_its_schema_right_before_it(httpserver: HTTPServer,
                                                                    tap):
    """Pages are checked as a whole first; a page that widens is fitted record by record, so
    the SCHEMA comes before the record that needs it, not before the page."""
    pages = {0: [{"id": 1, "v": 1}, {"id": 2, "v": 2}],
             2: [{"id": 3, "v": 3}, {"id": 4, "v": "four"}],
             4: [{"id": 5, "v": 5}]}
    def handle(request):
        from werkzeug import Response
        return Response(json.dumps(pages.get(int(request.args["offset"]), [])),
                        content_type="application/json")
    httpserver.expect_request("/w").respond_with_handler(handle)
    run = tap({"streams": [stream("w", httpserver.url_for("/w"),
                                  pagination={"type": "offset", "page_size": 2})]})
    assert run.returncode == 0, run.stderr
    order = [m["type"][0] + str(m["record"]["id"]) if m["type"] == "RECORD" else m["type"][0]
             for m in run.messages if m["type"] in ("SCHEMA", "RECORD")]
    assert order == ["S", "R1", "R2", "R3", "S", "R4", "R5"]
    assert run.of_type("SCHEMA")[1]["schema"]["properties"]["v"]["type"] == [
        "string", "integer", "null"]


def test_about_json_lists_settings_with_secrets_marked(tap, tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "tap-rest-api"
    about = json.loads(subprocess.run([str(exe), "--about", "--format", "json"],
                                      capture_output=True, check=True).stdout)
    settings = about["settings"]["properties"]
    assert "streams" in settings
    assert settings["auth"]["properties"]["token"]["secret"] is True
    assert settings["auth"]["properties"]["password"]["secret"] is True
    assert "discover" in about["capabilities"] and "state" in about["capabilities"]


def test_discover_infers_from_the_first_page_and_catalog_selects(httpserver: HTTPServer, tap,
                                                                 tmp_path):
    httpserver.expect_request("/a").respond_with_json([{"id": 1, "secret_col": "s"}])
    httpserver.expect_request("/b").respond_with_json([{"id": 2}])
    config = {"streams": [stream("a", httpserver.url_for("/a")),
                          stream("b", httpserver.url_for("/b"),
                                 schema=[{"name": "id", "type": "long"}])]}
    discovered = run_plugin("tap-rest-api", config, tmp_path, "--discover")
    assert discovered.returncode == 0, discovered.stderr
    catalog = json.loads(discovered.stdout)
    entries = {e["stream"]: e for e in catalog["streams"]}
    assert set(entries["a"]["schema"]["properties"]) == {"id", "secret_col"}
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["stream"] == "a"
            elif item["breadcrumb"] == ["properties", "secret_col"]:
                item["metadata"]["selected"] = False
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    httpserver.clear_log()
    run = tap(config, "--catalog", str(catalog_path))
    assert run.returncode == 0, run.stderr
    assert run.records("b") == []
    assert run.records("a") == [{"id": 1}]
    assert [r.path for r, _ in httpserver.log] == ["/a"]


def test_stream_maps_transform_records_and_schema(httpserver: HTTPServer, tap):
    httpserver.expect_request("/c").respond_with_json(
        [{"id": 1, "email": "ada@example.com", "secret_note": "x"},
         {"id": 2, "email": "bob@example.org", "secret_note": "y"}])
    run = tap({
        "streams": [stream("c", httpserver.url_for("/c"))],
        "stream_maps": {"c": {"secret_note": None,
                              "domain": "email.split('@')[-1]"}},
    })
    assert run.returncode == 0, run.stderr
    assert run.records() == [
        {"id": 1, "email": "ada@example.com", "domain": "example.com"},
        {"id": 2, "email": "bob@example.org", "domain": "example.org"},
    ]
    properties = run.of_type("SCHEMA")[0]["schema"]["properties"]
    assert "secret_note" not in properties and "domain" in properties
