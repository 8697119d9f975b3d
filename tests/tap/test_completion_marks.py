"""ACTIVATE_VERSION around each full-table stream: the opening one, and the completion mark."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from tests.tap.conftest import stream


def _kinds(run, name: str) -> list[str]:
    return [m["type"] for m in run.messages if m.get("stream") == name]


def _paged(server: HTTPServer, path: str, pages: list[list[dict]]) -> str:
    for number, page in enumerate(pages, start=1):
        server.expect_request(path, query_string=f"page={number}&limit=2").respond_with_json(page)
    return server.url_for(path)


def test_full_table_stream_opens_and_completes_with_its_version(httpserver, tap):
    url = _paged(httpserver, "/items", [[{"id": 1}, {"id": 2}], [{"id": 3}]])
    run = tap({"streams": [stream("items", url, pagination={"type": "page", "page_size": 2})]})
    assert run.returncode == 0, run.stderr
    assert _kinds(run, "items") == ["SCHEMA", "ACTIVATE_VERSION", "RECORD", "RECORD", "RECORD",
                                    "ACTIVATE_VERSION"]
    marks = run.of_type("ACTIVATE_VERSION")
    assert marks[0]["version"] == marks[1]["version"]
    assert {r["version"] for r in run.messages if r["type"] == "RECORD"} == {marks[0]["version"]}


def test_an_empty_stream_still_completes(httpserver, tap):
    httpserver.expect_request("/none").respond_with_json([])
    run = tap({"streams": [stream("none", httpserver.url_for("/none"),
                                  schema=[{"name": "id", "type": "long"}])]})
    assert run.returncode == 0, run.stderr
    assert _kinds(run, "none") == ["SCHEMA", "ACTIVATE_VERSION", "ACTIVATE_VERSION"]


def test_a_failed_stream_sends_no_completion_mark(httpserver, tap):
    url = _paged(httpserver, "/items", [[{"id": 1}, {"id": 2}]])
    httpserver.expect_request("/items", query_string="page=2&limit=2").respond_with_data(
        "gone", status=404)
    run = tap({"streams": [stream("items", url, pagination={"type": "page", "page_size": 2})]})
    assert run.returncode != 0
    assert _kinds(run, "items") == ["SCHEMA", "ACTIVATE_VERSION", "RECORD", "RECORD"]


def test_incremental_streams_and_the_off_switch_send_no_marks(httpserver, tap):
    httpserver.expect_request("/items").respond_with_json([{"id": 1, "at": "2025-01-01"}])
    url = httpserver.url_for("/items")
    incremental = tap({"streams": [stream("inc", url, incremental={
        "replication_key": "at", "param": "since"})]})
    switched_off = tap({"emit_activate_version_messages": False,
                        "streams": [stream("full", url)]})
    for run in (incremental, switched_off):
        assert run.returncode == 0, run.stderr
        assert run.of_type("ACTIVATE_VERSION") == []
        assert len(run.records()) == 1
