"""Reading through ``spark.read.format("rest_api")`` on a real local Spark."""

from __future__ import annotations

import datetime

import pytest
from pyspark.errors import PySparkException

from rest_api_core.arrow.convert import record_batch
from rest_api_core.arrow.schema import stream_layout
from spark_rest_api.errors import task_failure
from spark_rest_api.types import singer_schema_of
from tests.conftest import assert_no_canary, run_plugin, singer_messages
from tests.spark.conftest import DECLARED, items_settings, read

UTC = datetime.timezone.utc


def test_paginated_read_in_partitions_equals_the_tap(spark, paged_api, tmp_path):
    settings = items_settings(paged_api.url)
    frame = read(spark, settings)
    assert frame.rdd.getNumPartitions() == 4
    rows = frame.toArrow().to_pylist()

    tap = run_plugin("tap-rest-api", settings, tmp_path)
    assert tap.returncode == 0, tap.stderr.decode()
    messages = singer_messages(tap.stdout)
    schema = next(m["schema"] for m in messages if m["type"] == "SCHEMA")
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert singer_schema_of(frame.schema)["properties"] == schema["properties"]
    assert rows == record_batch(records, stream_layout(schema)).to_pylist()
    assert len(rows) == 950
    assert frame.schema.simpleString() == (
        "struct<id:bigint,name:string,big:bigint,ratio:double,active:boolean,seen_at:timestamp,"
        "day:date,blob:string,tags:array<string>,attrs:struct<size:bigint,label:string>>")


def test_declared_types_map_as_documented(spark, paged_api):
    frame = read(spark, items_settings(paged_api.url, DECLARED), partitions=2)
    assert frame.schema.simpleString() == (
        "struct<id:bigint,name:string,big:bigint,ratio:double,active:boolean,seen_at:timestamp,"
        "day:date,blob:binary,tags:array<string>,attrs:string>")
    assert frame.where("id = 5").toArrow().to_pylist() == [{
        "id": 5, "name": "item 5", "big": 2**60 + 5, "ratio": 0.625, "active": True,
        "seen_at": datetime.datetime(2025, 1, 6, 10, 5, tzinfo=UTC),
        "day": datetime.date(2025, 2, 6), "blob": b"bytes 5", "tags": ["t0", "all"],
        "attrs": '{"size":5,"label":"l5"}',
    }]


def test_failing_partition_fails_the_job_with_our_message_and_no_secret(
        spark, spark_log, paged_api):
    paged_api.fail_offset = 300  # the first page of partition 1 (pages 0-2, 3-5, 6-7, 8-9)
    mark = spark_log.mark()
    with pytest.raises(PySparkException) as failure:
        read(spark, items_settings(paged_api.url, DECLARED)).collect()
    message = str(failure.value)
    assert "stream 'items', partition 1: HTTP 400 Bad Request for GET /items" in message
    assert '"echo": "Bearer ***"' in message
    assert task_failure(message).startswith(
        "stream 'items', partition 1: HTTP 400 Bad Request for GET /items")  # what the CLI says
    log = spark_log.since(mark)
    assert "SparkTaskError: stream 'items', partition 1: HTTP 400" in log
    assert_no_canary(message, log)
