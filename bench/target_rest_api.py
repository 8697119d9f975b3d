"""Benchmark: target-rest-api vs. a plain requests + json loop posting the same batches.

Both run as processes against the same local sink server (a third process), end to end
(interpreter start and reading the input included). Prints records/s of each, their ratio,
and the target's peak RSS at growing input sizes.

``--in-flight`` measures batches in flight instead: a sink that takes 50 ms to answer each
request (many at once), 20,000 records in batches of 100; target-rest-api with
``max_in_flight: 8`` against itself with 1 and against the plain sequential loop, with the
most requests the sink saw at once.

    .venv/bin/python bench/target_rest_api.py            # 100k records; RSS at 10k and 100k
    .venv/bin/python bench/target_rest_api.py --full     # also RSS at 1M records
    .venv/bin/python bench/target_rest_api.py --in-flight
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median

BIN = Path(sys.executable).parent
BATCH = 100
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "required": ["id"],
}


IN_FLIGHT_RECORDS = 20_000
LATENCY = 0.05
"""Seconds the sink takes to answer each request with ``--in-flight``."""


class _Sink(BaseHTTPRequestHandler):
    """Counts the records posted and the most requests being answered at once."""

    protocol_version = "HTTP/1.1"
    latency = 0.0
    records = 0
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        sink = type(self)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            sink.in_flight += 1
            sink.peak = max(sink.peak, sink.in_flight)
        time.sleep(self.latency)
        with self.lock:
            sink.in_flight -= 1
            sink.records += body.count(b'"id":')
        self._reply(b"")

    def do_GET(self) -> None:
        self._reply(json.dumps({"records": type(self).records, "peak": type(self).peak}).encode())

    def do_DELETE(self) -> None:
        type(self).records = type(self).peak = 0
        self._reply(b"")

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def serve(port_file: str, latency: float) -> None:
    """Run the sink server; write its port to ``port_file``."""
    _Sink.latency = latency
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    Path(port_file).write_text(str(server.server_port))
    server.serve_forever()


def baseline(url: str, input_path: str) -> None:
    """The plain loop: parse each RECORD line, POST batches of 100 with requests."""
    import requests

    session = requests.Session()
    batch: list[dict] = []
    with open(input_path, encoding="utf-8") as lines:
        for line in lines:
            message = json.loads(line)
            if message["type"] != "RECORD":
                continue
            batch.append(message["record"])
            if len(batch) == BATCH:
                session.post(url, data=json.dumps(batch),
                             headers={"Content-Type": "application/json"}).raise_for_status()
                batch = []
    if batch:
        session.post(url, data=json.dumps(batch)).raise_for_status()


def write_input(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "people", "schema": SCHEMA,
                              "key_properties": ["id"]}) + "\n")
        for i in range(count):
            record = {"id": i, "name": f"person {i}", "email": f"p{i}@example.com",
                      "score": i * 0.5, "active": i % 2 == 0,
                      "updated_at": "2025-01-02T03:04:05Z"}
            out.write(json.dumps({"type": "RECORD", "stream": "people", "record": record})
                      + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"people": count}}) + "\n")


def timed(command: list[str], stdin_path: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process."""
    with stdin_path.open("rb") as stdin:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def sink_counts(url: str, reset: bool = False) -> dict[str, int]:
    """Records received and the most requests at once since the last reset."""
    request = urllib.request.Request(url, method="DELETE" if reset else "GET")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def sink_records(url: str, reset: bool = False) -> int:
    return sink_counts(url, reset).get("records", 0)


def in_flight(work: Path, url: str, rounds: int) -> None:
    """max_in_flight 8 vs 1 vs the plain sequential loop, against a sink with latency."""
    n = IN_FLIGHT_RECORDS
    data = work / f"input-{n}.jsonl"
    write_input(data, n)
    commands = {"plain sequential loop": [sys.executable, __file__, "--baseline", url, str(data)]}
    for size in (8, 1):
        config = work / f"target-{size}.json"
        config.write_text(json.dumps({"url": url, "batch_size": BATCH, "max_in_flight": size}))
        commands[f"max_in_flight {size}"] = [str(BIN / "target-rest-api"), "--config",
                                             str(config)]
    runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            sink_counts(url, reset=True)
            wall, _, rss = timed(command, data)
            counts = sink_counts(url)
            assert counts["records"] == n, f"{name}: the sink did not receive every record"
            runs[name].append((wall, rss, counts["peak"]))
    print(f"{n:,} records in batches of {BATCH} ({n // BATCH} requests), sink latency "
          f"{LATENCY * 1000:.0f} ms per request; whole processes; median of {rounds} runs")
    print(f"{'':22}{'records/s':>10} {'wall s':>7} {'peak RSS':>9} {'max at once':>12}")
    walls = {name: median(run[0] for run in results) for name, results in runs.items()}
    for name, results in runs.items():
        print(f"{name:22}{n / walls[name]:>10,.0f} {walls[name]:>7.2f} "
              f"{max(run[1] for run in results):>6} MB {max(run[2] for run in results):>12}")
    fast = walls["max_in_flight 8"]
    print(f"max_in_flight 8 is {walls['plain sequential loop'] / fast:.1f}x the plain "
          f"sequential loop and {walls['max_in_flight 1'] / fast:.1f}x max_in_flight 1 "
          "(goal >= 4x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="also measure RSS at 1M records")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, alternating")
    parser.add_argument("--in-flight", action="store_true",
                        help="batches in flight against a sink with 50 ms latency instead")
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", nargs=2, metavar=("URL", "INPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.latency)
    if args.baseline:
        return baseline(*args.baseline)

    work = Path(tempfile.mkdtemp(prefix="bench-target-rest-api-"))
    port_file = work / "port"
    latency = LATENCY if args.in_flight else 0.0
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file),
                               "--latency", str(latency)])
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/in"
        if args.in_flight:
            return in_flight(work, url, min(args.rounds, 3))
        config = work / "target.json"
        config.write_text(json.dumps({"url": url, "batch_size": BATCH}))
        target = [str(BIN / "target-rest-api"), "--config", str(config)]

        def run_target(count: int) -> tuple[float, float, int]:
            data = work / f"input-{count}.jsonl"
            if not data.exists():
                write_input(data, count)
            sink_records(url, reset=True)
            result = timed(target, data)
            assert sink_records(url) == count, "the sink did not receive every record"
            return result

        n = args.records
        data = work / f"input-{n}.jsonl"
        run_target(n)  # warm-up: file cache, .pyc
        targets, baselines = [], []
        for _ in range(args.rounds):  # alternate, so that a busy moment hits both
            targets.append(run_target(n))
            sink_records(url, reset=True)
            baselines.append(timed([sys.executable, __file__, "--baseline", url, str(data)],
                                   data))
            assert sink_records(url) == n
        target_wall, target_cpu = median(t[0] for t in targets), median(t[1] for t in targets)
        base_wall, base_cpu = median(b[0] for b in baselines), median(b[1] for b in baselines)
        startup_wall, startup_cpu, _ = run_target(0)
        print(f"{n:,} records in batches of {BATCH}; whole processes, start-up included; "
              f"median of {args.rounds} alternating runs")
        print(f"{'':22}{'records/s':>10} {'wall s':>7} {'CPU s':>7}")
        print(f"{'target-rest-api':22}{n / target_wall:>10,.0f} {target_wall:>7.2f} "
              f"{target_cpu:>7.2f}")
        print(f"{'requests + json loop':22}{n / base_wall:>10,.0f} {base_wall:>7.2f} "
              f"{base_cpu:>7.2f}")
        print(f"{'(target start-up)':22}{'':>10} {startup_wall:>7.2f} {startup_cpu:>7.2f}")
        print(f"ratio (goal >= 0.7x): {base_wall / target_wall:.2f}x by wall time, "
              f"{base_cpu / target_cpu:.2f}x by CPU time")
        for count in [10_000, 100_000] + ([1_000_000] if args.full else []):
            wall, _, rss = run_target(count)
            print(f"peak RSS at {count:>9,} records: {rss:>4} MB ({count / wall:,.0f} records/s)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
