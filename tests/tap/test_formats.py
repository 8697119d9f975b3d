"""Bodies that are not one JSON page: JSON lines, CSV, XML, gzip and zip files."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.tap.conftest import stream

SCHEMA = [{"name": "id", "type": "integer"}, {"name": "code", "type": "string"},
          {"name": "amount", "type": "double", "nullable": True}]


def _jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_jsonl_records_with_blank_lines_and_a_bom(httpserver: HTTPServer, tap):
    body = b"\xef\xbb\xbf" + _jsonl([{"id": 1}]) + b"\n  \n" + _jsonl([{"id": 2, "n": [1]}])
    httpserver.expect_request("/events").respond_with_data(body, content_type="text/plain")
    run = tap({"streams": [stream("events", httpserver.url_for("/events"),
                                  response={"format": "jsonl"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}, {"id": 2, "n": [1]}]


def test_a_jsonl_line_that_is_not_an_object_names_stream_page_and_line(httpserver, tap):
    httpserver.expect_request("/events").respond_with_data(b'{"id": 1}\n\n[1, 2]\n')
    run = tap({"streams": [stream("events", httpserver.url_for("/events"),
                                  response={"format": "jsonl"})]})
    assert run.returncode != 0
    assert "stream 'events', page 1, line 3: expected a JSON object, got list" in run.stderr


def test_gzip_jsonl_is_detected_from_its_bytes_not_its_headers(httpserver, tap):
    body = gzip.compress(_jsonl([{"id": i} for i in range(5)]))
    httpserver.expect_request("/export").respond_with_data(
        body, content_type="application/json")  # the header lies
    run = tap({"streams": [stream("export", httpserver.url_for("/export"),
                                  response={"format": "jsonl"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [0, 1, 2, 3, 4]


def test_content_encoding_gzip_still_works(httpserver, tap):
    body = gzip.compress(_jsonl([{"id": 7}]))
    httpserver.expect_request("/export").respond_with_data(
        body, headers={"Content-Encoding": "gzip"})
    run = tap({"streams": [stream("export", httpserver.url_for("/export"),
                                  response={"format": "jsonl"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 7}]


def test_gzipped_json_page_is_inflated(httpserver, tap):
    body = gzip.compress(json.dumps({"data": [{"id": 1}]}).encode())
    httpserver.expect_request("/x").respond_with_data(body)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  response={"root_key": "data"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]


def test_csv_with_quoted_newlines_and_a_latin1_body(httpserver, tap):
    text = 'id,code,amount,note\n1,00123,4.5,"two\nlines, and a comma"\n2,Müller,,café\n'
    httpserver.expect_request("/report.csv", headers={"Accept": "text/csv, */*;q=0.8"}
                              ).respond_with_data(
        text.encode("latin-1"), content_type="text/csv")
    run = tap({"streams": [stream("report", httpserver.url_for("/report.csv"),
                                  response={"format": "csv", "csv": {"encoding": "latin-1"}})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [
        {"id": "1", "code": "00123", "amount": "4.5", "note": "two\nlines, and a comma"},
        {"id": "2", "code": "Müller", "amount": "", "note": "café"}]
    schema = run.of_type("SCHEMA")[0]["schema"]["properties"]
    assert schema["id"]["type"] == ["string", "null"]  # inference never makes a number


def test_csv_values_are_converted_by_a_declared_schema(httpserver, tap):
    httpserver.expect_request("/r").respond_with_data(
        "\ufeffid,code,amount\n42,00123,\n".encode())
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), schema=SCHEMA,
                                  response={"format": "csv"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 42, "code": "00123", "amount": None}]


def test_csv_without_header_utf16_semicolons_and_skipped_rows(httpserver, tap):
    text = "Report: spend\nid;name\n1;a\n2;b\n"
    httpserver.expect_request("/r").respond_with_data(text.encode("utf-16"))
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), response={
        "format": "csv", "csv": {"delimiter": ";", "header": False, "columns": ["id", "name"],
                                 "encoding": "utf-16", "skip_rows": 2}})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]


def test_a_csv_row_longer_than_the_header_is_an_error_naming_the_line(httpserver, tap):
    httpserver.expect_request("/r").respond_with_data(b"a,b\n1,2\n1,2,3\n")
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), response={"format": "csv"})]})
    assert run.returncode != 0
    assert "stream 'r', page 1, line 3: 3 cells where the header names 2 fields" in run.stderr


def test_zip_of_three_csv_members_read_in_name_order(httpserver, tap):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, rows in (("c.csv", "3"), ("a.csv", "1"), ("b.csv", "2"),
                           ("readme.txt", "not a csv")):
            zipped.writestr(name, f"id\n{rows}\n")
    httpserver.expect_request("/r.zip").respond_with_data(archive.getvalue())
    run = tap({"streams": [stream("r", httpserver.url_for("/r.zip"), response={
        "format": "csv", "zip_members": "*.csv"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": "1"}, {"id": "2"}, {"id": "3"}]


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>News</title>
  <entry>
    <id>urn:1</id><title type="text">First</title>
    <link rel="alternate" href="https://example.com/1"/>
    <category term="a"/>
  </entry>
  <entry>
    <id>urn:2</id><title type="html">Second</title>
    <link rel="alternate" href="https://example.com/2"/>
    <category term="a"/><category term="b"/>
  </entry>
</feed>"""


def test_xml_feed_with_attributes_and_a_single_element_list(httpserver, tap):
    httpserver.expect_request("/feed").respond_with_data(ATOM, content_type="application/xml")
    run = tap({"streams": [stream("feed", httpserver.url_for("/feed"), response={
        "format": "xml", "root_key": "feed.entry", "xml": {"force_list": ["category"]}})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [
        {"id": "urn:1", "title": {"@type": "text", "#text": "First"},
         "link": {"@rel": "alternate", "@href": "https://example.com/1"},
         "category": [{"@term": "a"}]},
        {"id": "urn:2", "title": {"@type": "html", "#text": "Second"},
         "link": {"@rel": "alternate", "@href": "https://example.com/2"},
         "category": [{"@term": "a"}, {"@term": "b"}]}]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rows><row>&lol3;</row></rows>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rows [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rows><row>&secret;</row></rows>"""


def test_an_xml_bomb_and_an_xxe_document_are_refused(httpserver, tap):
    httpserver.expect_request("/bomb").respond_with_data(BILLION_LAUGHS)
    httpserver.expect_request("/xxe").respond_with_data(XXE)
    for name in ("bomb", "xxe"):
        run = tap({"streams": [stream(name, httpserver.url_for(f"/{name}"),
                                      response={"format": "xml"})]})
        assert run.returncode != 0
        assert f"stream '{name}', page 1: refused an XML document that declares a DTD" in run.stderr
        assert "root:" not in run.stderr and run.records() == []


def test_offset_pagination_ends_on_a_short_csv_page(httpserver, tap):
    for offset, rows in ((0, "1\n2\n"), (2, "3\n")):
        httpserver.expect_request("/r", query_string=f"offset={offset}&limit=2"
                                  ).respond_with_data(f"id\n{rows}")
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), response={"format": "csv"},
                                  pagination={"type": "offset", "page_size": 2})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == ["1", "2", "3"]


def test_link_header_and_header_cursor_pages_of_jsonl(httpserver, tap):
    httpserver.expect_request("/a", query_string="").respond_with_data(
        b'{"id": 1}\n', headers={"Link": f'<{httpserver.url_for("/a")}?p=2>; rel="next"'})
    httpserver.expect_request("/a", query_string="p=2").respond_with_data(b'{"id": 2}\n')
    httpserver.expect_request("/c", query_string="").respond_with_data(
        b'{"id": 3}\n', headers={"X-Next": "k2"})
    httpserver.expect_request("/c", query_string="cursor=k2").respond_with_data(b'{"id": 4}\n')
    run = tap({"streams": [
        stream("a", httpserver.url_for("/a"), response={"format": "jsonl"},
               pagination={"type": "link_header"}),
        stream("c", httpserver.url_for("/c"), response={"format": "jsonl"},
               pagination={"type": "cursor", "cursor_from": "header", "cursor_field": "X-Next",
                           "limit_param": None})]})
    assert run.returncode == 0, run.stderr
    assert run.records("a") == [{"id": 1}, {"id": 2}]
    assert run.records("c") == [{"id": 3}, {"id": 4}]


def test_pagination_that_needs_a_json_body_is_a_config_error(httpserver, tap):
    run = tap({"streams": [
        stream("a", "http://127.0.0.1:9/a", response={"format": "csv", "root_key": "x"},
               pagination={"type": "next_link"}),
        stream("b", "http://127.0.0.1:9/b", response={"format": "xml"},
               pagination={"type": "offset", "total_field": "total"})]})
    assert run.returncode != 0
    assert "streams[0].response.root_key: does not apply to format 'csv'" in run.stderr
    assert "streams[0].pagination.type: next_link reads a link in a JSON body" in run.stderr
    assert ("streams[1].pagination.total_field: reads the total in the JSON body, which format "
            "'xml' has not") in run.stderr


def test_a_body_cut_after_records_were_written_is_not_resumed(httpserver, tap):
    lines = _jsonl([{"id": i} for i in range(1500)])

    def cut(request):
        def body():
            yield lines
            raise ConnectionError("cut")  # the server drops the connection mid-body
        return Response(body(), headers={"Content-Length": str(len(lines) + 100)})

    httpserver.expect_request("/x").respond_with_handler(cut)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), response={"format": "jsonl"},
                                  rate_limit={"max_retries": 1})]})
    assert run.returncode != 0
    assert "a half-read file cannot be resumed" in run.stderr
    assert len(run.records()) == 1500
    assert len(httpserver.log) == 1


def _gzip_stream(piece: bytes, copies: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(packer.compress(piece) for _ in range(copies)) + packer.flush()


def test_a_gzip_bomb_meets_max_download_bytes(httpserver, tap):
    bomb = _gzip_stream(b'{"a": 1}\n' * 10_000, 600)  # 54 MB inflated from about 100 KB
    httpserver.expect_request("/bomb").respond_with_data(bomb)
    run = tap({"max_download_bytes": 5_000_000, "streams": [
        stream("bomb", httpserver.url_for("/bomb"), response={"format": "jsonl"})]})
    assert run.returncode != 0
    assert ("stream 'bomb', page 1: the file is larger than max_download_bytes = 5000000 "
            "(counted after decompression)") in run.stderr
    assert len(run.records()) < 5_000_000 // 9


def test_a_gzipped_json_page_inflating_past_max_response_bytes_fails(httpserver, tap):
    page = json.dumps({"data": [{"pad": "x" * 1000}] * 2000}).encode()
    httpserver.expect_request("/x").respond_with_data(gzip.compress(page))
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), max_response_bytes=1_000_000,
                                  response={"root_key": "data"})]})
    assert run.returncode != 0
    assert "the gzip file inflates to more than max_response_bytes = 1000000" in run.stderr


def test_json_documents_of_a_zip_are_read_one_after_another(httpserver, tap):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("day-2.json", json.dumps({"data": [{"id": 2}]}))
        zipped.writestr("day-1.json", json.dumps({"data": [{"id": 1}]}))
    httpserver.expect_request("/days").respond_with_data(archive.getvalue())
    run = tap({"streams": [stream("days", httpserver.url_for("/days"),
                                  response={"root_key": "data", "compression": "zip"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}, {"id": 2}]


def test_an_inferred_jsonl_schema_widens_past_the_records_read_ahead(httpserver, tap):
    records = [{"id": i} for i in range(1500)]
    records[1200]["late"] = "2025-01-02"
    httpserver.expect_request("/events").respond_with_data(_jsonl(records))
    run = tap({"streams": [stream("events", httpserver.url_for("/events"),
                                  response={"format": "jsonl"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == records
    assert len(httpserver.log) == 1  # the sample's answer is the sync's
    kinds = [m["type"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")]
    assert kinds.index("SCHEMA", 1) == 1 + 1200  # the wider schema right before record 1200
    assert "late" in run.of_type("SCHEMA")[-1]["schema"]["properties"]


def test_an_xml_root_key_that_misses_the_root_element_warns(httpserver, tap):
    httpserver.expect_request("/feed").respond_with_data(ATOM)
    run = tap({"streams": [stream("feed", httpserver.url_for("/feed"), response={
        "format": "xml", "root_key": "rss.channel.item"})]})
    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert ("stream 'feed', page 1: response.root_key 'rss.channel.item' starts at <rss>, but "
            "the root element is <feed>: 0 records") in run.stderr


def test_cursor_from_the_last_record_of_a_csv_page(httpserver, tap):
    httpserver.expect_request("/r", query_string="limit=2").respond_with_data(b"id\n1\n2\n")
    httpserver.expect_request("/r", query_string="limit=2&after=2").respond_with_data(b"id\n3\n")
    httpserver.expect_request("/r", query_string="limit=2&after=3").respond_with_data(b"id\n")
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), response={"format": "csv"},
                                  pagination={"type": "cursor", "cursor_from": "last_record",
                                              "cursor_field": "id", "cursor_param": "after",
                                              "page_size": 2})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == ["1", "2", "3"]


def test_a_body_cut_before_any_record_was_written_is_retried(httpserver, tap):
    lines = _jsonl([{"id": i} for i in range(50)])
    tries = []

    def cut_once(request):
        tries.append(1)
        if len(tries) > 1:
            return Response(lines)

        def body():
            yield lines[:100]
            raise ConnectionError("cut")
        return Response(body(), headers={"Content-Length": str(len(lines))})

    httpserver.expect_request("/x").respond_with_handler(cut_once)
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), response={"format": "jsonl"})]})
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(50))
    assert len(tries) == 2


def test_a_csv_cell_longer_than_the_csv_modules_default_limit(httpserver, tap):
    long_text = "y" * 300_000
    httpserver.expect_request("/r").respond_with_data(f'id,text\n1,"{long_text}"\n'.encode())
    run = tap({"streams": [stream("r", httpserver.url_for("/r"), response={"format": "csv"})]})
    assert run.returncode == 0, run.stderr[-500:]
    assert run.records() == [{"id": "1", "text": long_text}]
