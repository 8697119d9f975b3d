"""The Spark REST writer with ``max_in_flight``: a task's batches sent at once, up to the
setting, each with the Idempotency-Key it would have had one at a time."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.spark.conftest import Sink


class GatedSink(Sink):
    """Holds the first ``gate`` requests until that many are in flight at once (so the test
    sees them overlap without timing anything), and counts the most in flight."""

    def __init__(self, url: str, gate: int) -> None:
        super().__init__(url=url)
        self.gate = gate
        self.in_flight = 0
        self.most = 0
        self.opened = threading.Event()

    def accept(self, handler, body: bytes) -> tuple[int, Any]:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            if self.in_flight >= self.gate:
                self.opened.set()
        try:
            if not self.opened.wait(timeout=60):
                return 503, {"error": "the gate never opened"}
            return super().accept(handler, body)
        finally:
            with self.lock:
                self.in_flight -= 1


def _send(spark, sink: Sink, max_in_flight: int) -> None:
    frame = spark.createDataFrame(spark.sparkContext.parallelize(
        [(n, f"name {n}") for n in range(100)], 1), "id long, name string")
    settings = {"url": sink.url, "batch_size": 10, "max_in_flight": max_in_flight,
                "rate_limit": {"max_retries": 0}}
    (frame.write.format("rest_api").option("config", json.dumps(settings))
     .option("stream", "items").mode("append").save())


def test_four_batches_in_flight_with_the_keys_of_one_at_a_time(spark, local_server):
    host, port = local_server.server_address[:2]
    url = f"http://{host}:{port}/sink"
    local_server.sink = one_at_a_time = Sink(url=url)
    _send(spark, one_at_a_time, 1)
    local_server.sink = gated = GatedSink(url, gate=4)
    _send(spark, gated, 4)

    assert gated.most == 4  # four at once, never more
    assert len(gated.requests) == 10
    assert gated.stored() == one_at_a_time.stored()  # same keys, same bodies
    assert sorted(r["id"] for body in gated.stored().values() for r in body) == list(range(100))
