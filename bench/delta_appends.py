"""Benchmark: a table after many incremental appends (an hourly sync for weeks), with and
without ``optimize``, beside a plain script appending with ``write_deltalake``.

Each append is one process on every side, taken in turn (``--appends`` of ``--rows`` rows,
new ids each time): target-delta in ``append`` mode; the same with ``optimize: {min_files:
16}``; a plain script calling ``write_deltalake(mode="append")``. Then, for each table: the
file count, and the time a fresh process takes to open and read the whole table (median of 3).
Also the appends' total time, their ratio to the plain script's, and the peak RSS.

    .venv/bin/python bench/delta_appends.py                   # 500 appends of 1,000 rows
    .venv/bin/python bench/delta_appends.py --appends 60      # reduced
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from deltalake import DeltaTable
from main_job import measure

BIN = Path(sys.executable).parent
PROPERTIES = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]},
              "score": {"type": ["number", "null"]},
              "updated_at": {"type": ["string", "null"], "format": "date-time"}}

PLAIN = """
import json, sys
import pyarrow as pa
from deltalake import write_deltalake

records = [m["record"] for m in map(json.loads, open(sys.argv[2], "rb")) if m["type"] == "RECORD"]
data = pa.Table.from_pylist(records)
data = data.set_column(3, "updated_at", data.column(3).cast(pa.timestamp("us", tz="UTC")))
write_deltalake(sys.argv[1], data, mode="append")
"""

READ = ("import os, sys; from deltalake import DeltaTable; "
        "print(DeltaTable(sys.argv[1]).to_pyarrow_table().num_rows, flush=True); os._exit(0)")
"""Open and read the whole table. ``os._exit``: delta-rs' runtime can abort the interpreter's
ordinary exit ("terminate called without an active exception"), which is not the read."""


def singer_file(path: Path, first: int, rows: int) -> None:
    with path.open("w") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "events", "key_properties": ["id"],
                              "schema": {"type": "object", "properties": PROPERTIES}}) + "\n")
        for i in range(first, first + rows):
            record = {"id": i, "name": f"event {i}", "score": i * 0.25,
                      "updated_at": f"2025-01-01T00:00:{i % 60:02d}Z"}
            out.write(json.dumps({"type": "RECORD", "stream": "events", "record": record})
                      + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"last_id": first + rows - 1}}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--rows", type=int, default=1_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-delta-appends-"))
    try:
        results = run(work, args.appends, args.rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "delta_appends.json").write_text(json.dumps(results, indent=2))


def run(work: Path, appends: int, rows: int) -> dict:
    (work / "plain.py").write_text(PLAIN)
    configs = {"ours": {}, "ours_optimize": {"optimize": {"min_files": 16}}}
    for name, extra in configs.items():
        (work / f"{name}.json").write_text(json.dumps(
            {"path": str(work / name), "mode": "append", **extra}))
    seconds: dict[str, float] = {name: 0.0 for name in (*configs, "plain")}
    peak: dict[str, int] = {name: 0 for name in seconds}
    source = work / "append.singer"
    for n in range(appends):
        singer_file(source, n * rows, rows)
        commands = {name: [str(BIN / "target-delta"), "--config", str(work / f"{name}.json"),
                           "--input", str(source)] for name in configs}
        commands["plain"] = [sys.executable, str(work / "plain.py"), str(work / "plain"),
                             str(source)]
        for name, command in commands.items():
            wall, rss = measure(command)
            seconds[name] += wall
            peak[name] = max(peak[name], rss)
    results: dict = {"appends": appends, "rows_per_append": rows}
    print(f"{appends} appends of {rows:,} rows", flush=True)
    for name in seconds:
        path = str(work / name)
        table = DeltaTable(path)
        assert table.to_pyarrow_table().num_rows == appends * rows
        reads = [measure([sys.executable, "-c", READ, path])[0] for _ in range(3)]
        results[name] = {
            "append_rows_per_s": round(appends * rows / seconds[name]),
            "ratio_to_plain": round(seconds["plain"] / seconds[name], 2),
            "files": len(table.file_uris()), "version": table.version(),
            "read_seconds": round(statistics.median(reads), 2), "peak_rss_mib": peak[name],
        }
        print(f"  {name:<14} {json.dumps(results[name])}", flush=True)
    return results


if __name__ == "__main__":
    main()
