"""Micro-benchmark: records/s of DeclaredRecords.conform and InferredSchema.fit.

Run: ``.venv/bin/python -m tests.tap_schema.bench_schema [records]`` (default 100,000).
Records are typical API rows of 10 fields (ids, text, two timestamps, a float, a boolean,
a nested object and a list); the values already match, which is the common case.
"""

from __future__ import annotations

import copy
import logging
import sys
import time

from tap_rest_api.inference import InferredSchema
from tap_rest_api.schema import DeclaredRecords, declared_schema

FIELDS = [("id", "long"), ("name", "string"), ("email", "string"), ("created_at", "timestamp"),
          ("updated_at", "timestamp"), ("score", "double"), ("active", "boolean"),
          ("orders", "integer"), ("address", "object"), ("tags", "array")]


def typical_records(count: int) -> list[dict]:
    return [{"id": n, "name": f"Customer {n}", "email": f"c{n}@example.com",
             "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-06-01T08:30:00.250+02:00",
             "score": n / 7, "active": n % 2 == 0, "orders": n % 50,
             "address": {"city": "Oslo", "zip": f"{n % 9999:04d}"}, "tags": ["a", "b"]}
            for n in range(count)]


def rate(label: str, func, records: list[dict], repeats: int = 5) -> None:
    """Best of ``repeats`` passes in CPU time (the machine is shared: wall time is noisy)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for record in records:
            func(record)
        best = min(best, time.process_time() - started)
    print(f"{label:<48} {len(records) / best:>12,.0f} records/s")


def main(count: int) -> None:
    records = typical_records(count)
    schema = declared_schema([{"name": n, "type": k} for n, k in FIELDS], "schema")
    conformer = DeclaredRecords("bench", schema, logging.getLogger("bench"), primary_keys=["id"])
    rate("conform (values already right)", conformer.conform, records)
    no_dates = DeclaredRecords("bench", declared_schema(
        [{"name": n, "type": "string" if k == "timestamp" else k} for n, k in FIELDS], "s"),
        logging.getLogger("bench"))
    rate("conform (same, timestamps declared string)", no_dates.conform, records)
    coerced = [{**r, "id": str(r["id"]), "orders": str(r["orders"])} for r in records]
    rate("conform (two integer fields coerced from text)", conformer.conform, coerced, repeats=1)
    inferred = InferredSchema()
    inferred.observe_page(copy.deepcopy(records[:100]))
    rate("fit (inferred schema, records fit)", inferred.fit, records)
    loop = {}.get
    rate("baseline: 10 dict lookups per record", lambda r: [loop(k) for k in r], records)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
