"""Benchmark: merge at scale. target-delta in ``merge`` mode vs delta-rs' own ``merge`` called
in a plain script, both upserting the same changed rows into copies of one large table.

Each side is a process reading the same Singer file (10,000 changed rows: 9 in 10 update an
existing id spread over the table, the rest are new ids), run alternately on a fresh copy of
the table; median seconds, records/s, their ratio and the peak RSS.

    .venv/bin/python bench/delta_merge.py                          # 1,000,000-row table
    .venv/bin/python bench/delta_merge.py --rows 200000 --repeat 3 # reduced
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake
from main_job import alternate, measure, row

BIN = Path(sys.executable).parent
PROPERTIES = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]},
              "score": {"type": ["number", "null"]},
              "updated_at": {"type": ["string", "null"], "format": "date-time"}}

PLAIN = """
import json, sys
import pyarrow as pa
from deltalake import DeltaTable

path, source = sys.argv[1], sys.argv[2]
records = [m["record"] for m in map(json.loads, open(source, "rb")) if m["type"] == "RECORD"]
changes = pa.Table.from_pylist(records).cast(pa.schema(DeltaTable(path).schema().to_arrow()))
(DeltaTable(path).merge(changes, predicate="target.id = source.id", source_alias="source",
                        target_alias="target")
 .when_matched_update_all().when_not_matched_insert_all().execute())
"""


def base_table(path: Path, rows: int) -> None:
    """The table before the merge: ``rows`` rows written by delta-rs in 10 appends."""
    step = max(rows // 10, 1)
    for start in range(0, rows, step):
        ids = range(start, min(start + step, rows))
        write_deltalake(str(path), pa.table({
            "id": pa.array(ids, pa.int64()),
            "name": [f"name {i}" for i in ids],
            "score": [i * 0.5 for i in ids],
            "updated_at": pa.array([1_700_000_000_000_000 + i for i in ids],
                                   pa.timestamp("us", tz="UTC")),
        }), mode="append")


def singer_file(path: Path, rows: int, changed: int) -> None:
    stride = max(rows // changed, 1)
    with path.open("w") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "people", "key_properties": ["id"],
                              "schema": {"type": "object", "properties": PROPERTIES}}) + "\n")
        for n in range(changed):
            i = n * stride if n % 10 else rows + n  # 9 in 10 update, 1 in 10 is new
            record = {"id": i, "name": f"changed {i}", "score": -1.0,
                      "updated_at": "2025-06-01T00:00:00Z"}
            out.write(json.dumps({"type": "RECORD", "stream": "people", "record": record})
                      + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-delta-merge-"))
    try:
        base, source = work / "base", work / "changes.singer"
        base_table(base, args.rows)
        singer_file(source, args.rows, args.changed)
        (work / "plain.py").write_text(PLAIN)
        config = work / "config.json"
        config.write_text(json.dumps({"path": str(work / "ours"), "mode": "merge",
                                      "batch_size_rows": args.changed}))

        def fresh(name: str) -> Path:
            shutil.rmtree(work / name, ignore_errors=True)
            shutil.copytree(base, work / name)
            return work / name

        sides = {
            "ours": lambda: (fresh("ours"), measure(
                [str(BIN / "target-delta"), "--config", str(config), "--input", str(source)]))[1],
            "plain": lambda: (fresh("plain"), measure(
                [sys.executable, str(work / "plain.py"), str(work / "plain"), str(source)]))[1],
        }
        print(f"merge of {args.changed:,} changed rows into a {args.rows:,}-row table "
              f"(median of {args.repeat})", flush=True)
        timings = alternate(sides, args.repeat)
        result = {**row("target-delta merge vs delta-rs merge", args.changed, timings["ours"],
                        timings["plain"]),
                  "table_rows": args.rows, "ours_seconds": round(timings["ours"][0], 2),
                  "plain_seconds": round(timings["plain"][0], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "delta_merge.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
