"""Writing through ``df.write.format("rest_api")`` on a real local Spark."""

from __future__ import annotations

import datetime
import json

from tests.conftest import CANARY_TOKEN
from tests.spark.conftest import DECLARED, item, items_settings, read

START = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


def test_writer_delivers_every_row_once_after_a_task_retry(spark, sink):
    rows = [(n, f"name {n}", START + datetime.timedelta(minutes=n)) for n in range(250)]
    frame = spark.createDataFrame(spark.sparkContext.parallelize(rows, 2),
                                  "id long, name string, at timestamp")
    sink.refuse_first_id = 50  # partition 0's second batch: refused once, not retried by
    settings = {"url": sink.url, "batch_size": 50,  # the client, so Spark retries the task
                "auth": {"type": "bearer", "token": CANARY_TOKEN}}
    (frame.write.format("rest_api").option("config", json.dumps(settings))
     .option("stream", "items").mode("append").save())

    stored = sink.stored()
    assert len(stored) == 6  # 125 rows per partition: batches of 50, 50, 25
    delivered = sorted(record["id"] for body in stored.values() for record in body)
    assert delivered == list(range(250))
    first_batch = [key for key, body in sink.requests if body[0]["id"] == 0]
    assert len(first_batch) == 2 and first_batch[0] == first_batch[1]  # sent again, same key
    [(refused_key, _)] = sink.refused
    assert [body[0]["id"] for body in [stored[refused_key]]] == [50]  # retried with its key
    assert stored[first_batch[0]][0] == {"id": 0, "name": "name 0", "at": "2025-01-01T00:00:00Z"}


def test_rows_read_from_an_api_are_sent_as_the_tap_read_them(spark, paged_api, sink):
    frame = read(spark, items_settings(paged_api.url, DECLARED), partitions=2)
    settings = {"url": sink.url, "batch_size": 500}
    (frame.write.format("rest_api").option("config", json.dumps(settings))
     .option("stream", "items").mode("append").save())
    sent = sorted((r for _, body in sink.requests for r in body), key=lambda r: r["id"])
    assert len(sent) == 950
    assert sent[5] == item(5)  # the JSON the API served: objects as objects, base64, RFC 3339
