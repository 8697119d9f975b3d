"""The data source reads the tap's response formats; a report job is one partition."""

from __future__ import annotations

import gzip
import json

from pytest_httpserver import HTTPServer

from tests.spark.conftest import read


def test_gzipped_csv_and_xml_read_as_the_tap_reads_them(spark, httpserver: HTTPServer):
    httpserver.expect_request("/items.csv.gz").respond_with_data(
        gzip.compress(b'id,name\n1,"a, b"\n2,c\n'))
    settings = {"streams": [{"name": "items", "url": httpserver.url_for("/items.csv.gz"),
                             "response": {"format": "csv"},
                             "schema": [{"name": "id", "type": "integer"},
                                        {"name": "name", "type": "string"}]}]}
    frame = read(spark, settings)
    assert frame.rdd.getNumPartitions() == 1
    assert sorted(frame.toArrow().to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "name": "a, b"}, {"id": 2, "name": "c"}]

    httpserver.expect_request("/feed").respond_with_data(
        b'<rss><channel><item id="1"><title>x</title></item></channel></rss>')
    settings = {"streams": [{"name": "items", "url": httpserver.url_for("/feed"),
                             "response": {"format": "xml", "root_key": "rss.channel.item"}}]}
    assert read(spark, settings).toArrow().to_pylist() == [{"@id": "1", "title": "x"}]


def test_a_report_job_is_one_partition(spark, httpserver: HTTPServer):
    httpserver.expect_request("/reports", method="POST").respond_with_json({"id": "9"})
    httpserver.expect_request("/reports/9").respond_with_json(
        {"status": "done", "url": httpserver.url_for("/files/9.jsonl")})
    httpserver.expect_request("/files/9.jsonl").respond_with_data(
        "".join(json.dumps({"id": i}) + "\n" for i in range(5)).encode())
    settings = {"streams": [{"name": "items", "schema": [{"name": "id", "type": "integer"}],
                             "response": {"format": "jsonl"},
                             "report": {"create": {"url": httpserver.url_for("/reports")},
                                        "poll": {"url": httpserver.url_for("/reports/{job.id}"),
                                                 "done": ["done"]},
                                        "download": {"url_field": "url"}}}]}
    frame = read(spark, settings)
    assert frame.rdd.getNumPartitions() == 1
    assert sorted(row["id"] for row in frame.toArrow().to_pylist()) == [0, 1, 2, 3, 4]
    assert len([r for r, _ in httpserver.log if r.path == "/reports"]) == 1
