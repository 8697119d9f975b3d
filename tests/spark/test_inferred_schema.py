"""An inferred schema on Spark: read from the first pages; a field first seen later fails the
task with a message naming it, unless ``unknown_fields: drop`` was chosen."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pyspark.errors import PySparkException

from spark_rest_api.conform import Conformer
from tests.spark.conftest import PagedApi, items_settings


class LateFieldApi(PagedApi):
    """The paged API whose items from the third page (offset 200) on have a field ``late``."""

    def respond(self, handler) -> tuple[int, Any]:
        status, body = super().respond(handler)
        for row in body.get("data", []):
            if row["id"] >= 200:
                row["late"] = f"late {row['id']}"
        return status, body


@pytest.fixture
def late_api(local_server) -> LateFieldApi:
    host, port = local_server.server_address[:2]
    local_server.api = LateFieldApi(950, url=f"http://{host}:{port}/items")
    return local_server.api


def _read(spark, api: PagedApi, **options: str):
    reader = (spark.read.format("rest_api").option("config", json.dumps(items_settings(api.url)))
              .option("stream", "items").option("partitions", "2"))
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load()


def test_a_field_first_seen_on_page_3_is_kept_when_the_sample_reaches_it(spark, late_api):
    frame = _read(spark, late_api)  # five sample pages by default
    assert "late" in frame.columns
    rows = {row["id"]: row["late"] for row in frame.select("id", "late").collect()}
    assert len(rows) == 950
    assert rows[199] is None and rows[949] == "late 949"


def test_a_later_unknown_field_fails_the_task_naming_it(spark, late_api):
    frame = _read(spark, late_api, schema_sample_pages="2")
    assert "late" not in frame.columns
    with pytest.raises(PySparkException) as failure:
        frame.collect()
    assert re.search(r"stream 'items', partition \d: field\(s\) 'late' not in the schema "
                     r"inferred from the first pages: declare the stream's `schema`",
                     str(failure.value))


def test_unknown_fields_drop_leaves_them_out_when_chosen(spark, late_api):
    frame = _read(spark, late_api, schema_sample_pages="2", unknown_fields="drop")
    assert frame.count() == 950
    assert "late" not in frame.columns
    with pytest.raises(PySparkException, match="option 'unknown_fields': expected one of "
                                                "fail, drop, got 'keep'"):
        _read(spark, late_api, unknown_fields="keep").collect()


def test_the_conformer_refuses_by_default_and_drops_on_request(spark, late_api):
    from spark_rest_api.streams import open_stream
    stream = open_stream(items_settings(late_api.url), "items")
    records = [{"id": 1, "late": "x"}]
    with pytest.raises(Exception, match="field\\(s\\) 'late' not in the schema"):
        list(Conformer(stream, ["id"])(records))
    assert list(Conformer(stream, ["id"], "drop")(records)) == records
