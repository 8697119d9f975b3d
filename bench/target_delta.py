"""Benchmark: target-delta vs. a plain json + write_deltalake script, on the same Singer file.

Both run as processes (interpreter start and reading the file included), writing a local
Delta table in batches of the same size, alternately and best of ``--repeat`` runs. Prints
rows/s of each, their ratio in wall time and in CPU time (the figure; target at least 0.5; the
CPU ratio is the steadier one on a shared machine), and peak RSS at growing input sizes (it
should stay flat).

    .venv/bin/python bench/target_delta.py                 # 100k and 1M rows (make bench)
    .venv/bin/python bench/target_delta.py --rows 10000 100000 --repeat 1
    .venv/bin/python bench/target_delta.py --mode overwrite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
BATCH = 10_000
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer"]},
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "score": {"type": ["number", "null"]},
        "visits": {"type": ["integer", "null"]},
        "active": {"type": ["boolean", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "birthday": {"type": ["string", "null"], "format": "date"},
        "address": {"type": ["object", "null"], "properties": {
            "city": {"type": ["string", "null"]}, "zip": {"type": ["string", "null"]}}},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}

PLAIN = """
import json, sys
import pyarrow as pa
from deltalake import write_deltalake

path, batch_size = sys.argv[1], int(sys.argv[2])
batch = []
with open(sys.argv[3], "rb") as source:
    for line in source:
        message = json.loads(line)
        if message["type"] == "RECORD":
            batch.append(message["record"])
            if len(batch) >= batch_size:
                write_deltalake(path, pa.Table.from_pylist(batch), mode="append")
                batch = []
if batch:
    write_deltalake(path, pa.Table.from_pylist(batch), mode="append")
"""


def write_singer_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "people", "schema": SCHEMA,
                              "key_properties": ["id"]}) + "\n")
        mark = json.dumps({"type": "ACTIVATE_VERSION", "stream": "people", "version": 1}) + "\n"
        out.write(mark)  # a full-table read, as tap-rest-api sends it (overwrite needs it)
        for i in range(rows):
            record = {
                "id": i, "name": f"name {i}", "email": f"user{i}@example.com",
                "score": rng.random() * 100, "visits": rng.randrange(1000),
                "active": i % 3 == 0,
                "updated_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:15:30."
                              f"{i % 1000000:06d}Z",
                "birthday": f"19{50 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "address": {"city": f"city {i % 500}", "zip": f"{i % 100000:05d}"},
                "tags": ["a", "b"] if i % 2 else [],
            }
            out.write(json.dumps({"type": "RECORD", "stream": "people", "record": record}) + "\n")
            if (i + 1) % 50_000 == 0:
                out.write(json.dumps({"type": "STATE", "value": {"upto": i}}) + "\n")
        out.write(mark)


def measure(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read().decode() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[0]} failed:\n{stderr[-3000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def run(rows: int, mode: str, workdir: Path, repeat: int) -> dict:
    """Best of ``repeat`` alternating runs of each side (this machine is often shared)."""
    source = workdir / f"people-{rows}.singer"
    if not source.exists():
        write_singer_file(source, rows)
    target_table, plain_table = workdir / f"target-{rows}", workdir / f"plain-{rows}"
    config = workdir / "config.json"
    config.write_text(json.dumps({"path": str(target_table), "mode": mode,
                                  "batch_size_rows": BATCH}))
    plain_script = workdir / "plain.py"
    plain_script.write_text(PLAIN)
    commands = {
        "target": [str(BIN / "target-delta"), "--config", str(config), "--input", str(source)],
        "plain": [sys.executable, str(plain_script), str(plain_table), str(BATCH), str(source)],
    }
    best: dict[str, tuple[float, float, int]] = {}
    for _ in range(repeat):
        for side, command in commands.items():
            for table in (target_table, plain_table):
                shutil.rmtree(table, ignore_errors=True)
            wall, cpu, rss = measure(command)
            previous = best.get(side)
            best[side] = (min(wall, previous[0]) if previous else wall,
                          min(cpu, previous[1]) if previous else cpu,
                          max(rss, previous[2]) if previous else rss)
    (t_wall, t_cpu, t_rss), (p_wall, p_cpu, p_rss) = best["target"], best["plain"]
    return {
        "rows": rows, "mode": mode, "batch": BATCH, "best_of": repeat,
        "target_rows_per_s": round(rows / t_wall), "plain_rows_per_s": round(rows / p_wall),
        "ratio_wall": round(p_wall / t_wall, 2), "ratio_cpu": round(p_cpu / t_cpu, 2),
        "target_peak_rss_mib": t_rss, "plain_peak_rss_mib": p_rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--mode", default="append", choices=["append", "overwrite", "merge"])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each side")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-target-delta-"))
    results = []
    try:
        for rows in args.rows:
            result = run(rows, args.mode, workdir, args.repeat)
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"target_delta_{args.mode}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
