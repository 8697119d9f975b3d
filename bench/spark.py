"""Benchmark: the Spark ``rest_api`` read against a sequential plain requests loop.

The local API of bench/tap.py (its own process, one thread per request) answers each page
after 50 ms, like a remote API would; it serves N records in pages of 100 with
``meta.total``, so the Spark read splits the stream into page ranges. The loop fetches and
parses every page one after the other; the tap does the same through Singer; Spark reads
with 4 partitions on ``local[4]`` (four task slots, whatever the core count: the work is
waiting on the network), each partition keeping ``--concurrency`` pages in flight (the
stream's ``concurrency`` setting). Prints records/s, the ratios and peak RSS (Spark: driver, JVM and
Python workers together), and where each read's time goes: ``load()`` (the schema, inferred
on the driver's Python worker from the first page) and the job (planning, which reads the
first page again, then the tasks). Last, the floor: the first read of a Python data source
that does no work at all, in a new process, which no first read can beat.

``--large`` is the issue's larger case: 400,000 records, 8 partitions on ``local[4]`` (the
plain loop alone takes over 200 s at 50 ms a page; the tap, sequential like the loop and at
the same rate at any size, is left out there).

    .venv/bin/python bench/spark.py [--records 40000] [--partitions 4] [--cores N]
                                    [--latency 0.05] [--concurrency 4] [--large]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from tap import run_tap, start_server

# bench/target_delta.py would shadow the target_delta package the data source imports.
sys.path.remove(str(Path(__file__).resolve().parent))

PAGE_SIZE = 100


def plain_loop(url: str) -> int:
    """The baseline: one page after the other with requests + json."""
    session = requests.Session()
    offset = count = 0
    while True:
        page = session.get(url, params={"offset": offset, "limit": PAGE_SIZE}).json()["data"]
        count += len(page)
        offset += len(page)
        if len(page) < PAGE_SIZE:
            return count


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry)] = next((int(line.split()[1]) for line in status.splitlines()
                                if line.startswith("VmRSS:")), 0)
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


class PeakRss:
    """Samples the RSS of this process tree every 100 ms while in use."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, _tree_rss_kib(os.getpid()))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def spark_read(url: str, partitions: int, cores: int, records: int, concurrency: int
               ) -> tuple[float, list[tuple[float, float]], int]:
    """Session start seconds; ``load()`` and job seconds of a first and a second read in that
    session; peak RSS (KiB) of the whole process tree. The first read also pays the JVM's
    warm-up and the start of the Python workers (reused afterwards)."""
    from pyspark.sql import SparkSession

    from spark_rest_api import register

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {"streams": [{"name": "items", "url": url, "response": {"root_key": "data"},
                             "pagination": {"type": "offset", "page_size": PAGE_SIZE,
                                            "total_field": "meta.total"},
                             "concurrency": concurrency}]}
    reads = []
    with PeakRss() as rss:
        started = time.perf_counter()
        spark = (SparkSession.builder.master(f"local[{cores}]")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        register(spark)
        session_seconds = time.perf_counter() - started
        for _ in range(2):
            started = time.perf_counter()
            frame = (spark.read.format("rest_api").option("config", json.dumps(settings))
                     .option("stream", "items").option("partitions", str(partitions)).load())
            loaded = time.perf_counter()
            rows = frame.count()
            reads.append((loaded - started, time.perf_counter() - loaded))
            if rows != records:
                raise SystemExit(f"Spark read {rows} rows, expected {records}")
        spark.stop()
    return session_seconds, reads, rss.peak


def idle_source_read(partitions: int, cores: int, records: int) -> tuple[float, float]:
    """``load()`` and job seconds of the first read of a Python data source that does no
    work (its rows are counters), in a new session: what any Python data source pays Spark
    on a first read (worker daemons, JVM warm-up), the floor under ours. Run in this
    process, which must not have started Spark yet."""
    from pyspark.sql import SparkSession
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

    share = records // partitions

    class IdleReader(DataSourceReader):
        def partitions(self) -> list[InputPartition]:
            return [InputPartition(index) for index in range(partitions)]

        def read(self, partition: InputPartition) -> Iterator[tuple[int]]:
            yield from ((number,) for number in range(share))

    class IdleSource(DataSource):
        @classmethod
        def name(cls) -> str:
            return "idle"

        def schema(self) -> str:
            return "id long"

        def reader(self, schema: object) -> DataSourceReader:
            return IdleReader()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(f"local[{cores}]")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(IdleSource)
    started = time.perf_counter()
    frame = spark.read.format("idle").load()
    loaded = time.perf_counter()
    frame.count()
    done = time.perf_counter()
    spark.stop()
    return loaded - started, done - loaded


def idle_floor(partitions: int, cores: int, records: int) -> tuple[float, float]:
    """``idle_source_read`` in a new process (its own JVM, as cold as ours)."""
    done = subprocess.run([sys.executable, __file__, "--idle-floor", "--records", str(records),
                           "--partitions", str(partitions), "--cores", str(cores)],
                          capture_output=True, text=True, check=True)
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=40_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--cores", type=int, default=None,
                        help="task slots: local[N] (default: --partitions)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="the stream's concurrency: pages in flight per partition")
    parser.add_argument("--large", action="store_true",
                        help="400,000 records, 8 partitions on local[4]")
    parser.add_argument("--idle-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large:
        args.records, args.partitions, args.cores = 400_000, 8, 4
    cores = args.cores or args.partitions
    if args.idle_floor:
        print(json.dumps(idle_source_read(args.partitions, cores, args.records)))
        return

    proc, url = start_server(args.records, args.latency)
    try:
        print(f"Spark rest_api read vs a plain requests loop, {args.records} records, pages of "
              f"{PAGE_SIZE}, {args.latency * 1000:.0f} ms per request")
        started = time.perf_counter()
        count = plain_loop(url)
        loop_rate = count / (time.perf_counter() - started)
        tap = None if args.large else run_tap(url, PAGE_SIZE)
        session, reads, rss = spark_read(url, args.partitions, cores, args.records,
                                         args.concurrency)
        print(f"  loop         {loop_rate:>9,.0f} rec/s")
        if tap is not None:  # sequential as the loop: the same rate at any size
            tap_rate = args.records / tap[0]
            print(f"  tap          {tap_rate:>9,.0f} rec/s, ratio {tap_rate / loop_rate:.2f}x, "
                  f"peak RSS {tap[1] / 1024:.0f} MiB")
        for label, (schema, job) in zip(("first read", "next read"), reads, strict=True):
            rate = args.records / (schema + job)
            print(f"  spark {label:<10} {rate:>9,.0f} rec/s, ratio {rate / loop_rate:.2f}x "
                  f"({args.partitions} partitions on local[{cores}], concurrency "
                  f"{args.concurrency}; load() {schema:.1f} s, "
                  f"job {job:.1f} s)")
        print(f"  spark session start {session:.1f} s (not counted); peak RSS "
              f"{rss / 1024:.0f} MiB (driver, JVM and workers)")
        idle_load, idle_job = idle_floor(args.partitions, cores, args.records)
        idle_rate = args.records / (idle_load + idle_job)
        print(f"  floor: a first read of an idle Python data source (no I/O, same rows and "
              f"partitions, new session) takes load() {idle_load:.1f} s, job {idle_job:.1f} s: "
              f"{idle_rate:,.0f} rec/s, ratio {idle_rate / loop_rate:.2f}x at most")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
