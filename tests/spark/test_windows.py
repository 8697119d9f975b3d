"""A windowed stream on Spark: its windows are the partitions (N windows over P partitions),
planned on the driver and read with the tap's own paging, against a local API that refuses
ranges wider than 7 days."""

from __future__ import annotations

from datetime import timedelta

from pytest_httpserver import HTTPServer

from spark_rest_api.partitions import WindowSlice, plan
from spark_rest_api.streams import open_stream
from tests.spark.conftest import read
from tests.tap.test_windows import CURSOR, _in_range, _windows
from tests.tap.windowed_api import START, WindowedApi, charges, iso

DAY = timedelta(days=1)
END = START + 90 * DAY


def _settings(server: HTTPServer, rate: float | None = None) -> dict:
    stream = {"name": "items", "url": server.url_for("/charges"),
              "response": {"root_key": "data"}, "pagination": CURSOR,
              "schema": [{"name": "id", "type": "integer"},
                         {"name": "created", "type": "string"}],
              "incremental": {"replication_key": "created", "start_value": iso(START),
                              "end_value": iso(END),
                              "window": {"step": "7d", "start_param": "created[gte]",
                                         "end_param": "created[lt]"}}}
    if rate:
        stream["rate_limit"] = {"requests_per_second": rate}
    return {"streams": [stream]}


def test_13_windows_spread_over_4_partitions_on_the_driver(httpserver: HTTPServer):
    partitions = plan(open_stream(_settings(httpserver, rate=8), "items"), wanted=4,
                      parallelism=2)

    assert [len(p.windows) for p in partitions] == [4, 3, 3, 3]
    assert all(isinstance(p, WindowSlice) and p.requests_per_second == 4.0
               for p in partitions)
    flat = [(w.start, w.end) for p in partitions for w in p.windows]
    assert flat == _windows(START, END)
    assert httpserver.log == []  # planning sends nothing


def test_a_windowed_read_in_partitions_reads_every_record_once(spark, httpserver: HTTPServer):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)

    frame = read(spark, _settings(httpserver), partitions=4)

    assert frame.rdd.getNumPartitions() == 4
    ids = sorted(row["id"] for row in frame.toArrow().to_pylist())
    assert ids == _in_range(rows, START, END)
    assert sorted(api.ranges) == _windows(START, END)
