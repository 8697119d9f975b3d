"""Benchmark: tap-rest-api with ``concurrency`` against a sequential requests loop.

A local API (its own process, serving many requests at once) answers each request after a fixed
latency, as a remote one would. Three cases, each against a plain ``requests`` loop reading the
same pages one after another:

- (default) one offset stream with ``meta.total``: pages ahead;
- ``--streams 8``: that many streams on the one host, read side by side;
- ``--children``: parent records (offset pages), 20 children each from
  ``/parents/{parent.id}/children``, the children of upcoming parents requested ahead.

The server counts the requests open at once; the tap's records are checked: each exactly once,
in page order (children: in parent order). Prints records/s, the ratio, the peak in flight and
the tap's peak RSS.

    .venv/bin/python bench/tap_concurrency.py [--records 40000] [--page-size 100]
        [--latency 0.05] [--concurrency 8] [--streams N | --children]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import requests
from tap import CHILDREN, plain_loop, run_tap_config, start_server


def server_stats(url: str, *, reset: bool = False) -> dict:
    """The API's counts since the last reset (requests served, most open at once)."""
    stats_url = url.rsplit("/", 1)[0] + "/_stats" + ("?reset=1" if reset else "")
    return requests.get(stats_url, timeout=10).json()


def _stream(name: str, url: str, page_size: int | None = None, **settings: object) -> dict:
    pagination = ({"pagination": {"type": "offset", "page_size": page_size,
                                  "total_field": "meta.total"}} if page_size else {})
    return {"name": name, "url": url, "response": {"root_key": "data"}, **pagination,
            **settings}


def configs(url: str, args: argparse.Namespace) -> tuple[dict, dict[str, list[int]]]:
    """The tap's config for the case, and the record ids each stream must write, in order."""
    base = url.rsplit("/", 1)[0]
    if args.children:
        config = {"streams": [
            _stream("parents", f"{base}/parents", args.page_size),
            _stream("children", f"{base}/parents/{{parent.id}}/children", parent="parents")]}
        expected = {"parents": list(range(args.records)),
                    "children": list(range(args.records * CHILDREN))}
    elif args.streams:
        names = [f"stream{n}" for n in range(1, args.streams + 1)]
        config = {"streams": [_stream(name, f"{base}/{name}", args.page_size)
                              for name in names]}
        expected = {name: list(range(args.records)) for name in names}
    else:
        config = {"streams": [_stream("customers", url, args.page_size)]}
        expected = {"customers": list(range(args.records))}
    return {"concurrency": args.concurrency, **config}, expected


def sequential_loop(url: str, args: argparse.Namespace) -> int:
    """The baseline: every page (and every parent's children) one request after another."""
    base = url.rsplit("/", 1)[0]
    if args.children:
        session = requests.Session()
        count = plain_loop(f"{base}/parents", args.page_size)
        with open(os.devnull, "w") as sink:
            for parent in range(args.records):
                rows = session.get(f"{base}/parents/{parent}/children").json()["data"]
                for record in rows:
                    sink.write(json.dumps(record) + "\n")
                count += len(rows)
        return count
    names = [f"stream{n}" for n in range(1, args.streams + 1)] if args.streams else [None]
    return sum(plain_loop(f"{base}/{name}" if name else url, args.page_size) for name in names)


def run_concurrent_tap(config: dict) -> tuple[float, int, dict[str, list[int]]]:
    """Seconds, peak RSS (KiB) and each stream's record ids, in output order, of one run."""
    with tempfile.TemporaryFile() as output:
        seconds, rss = run_tap_config(config, output)
        output.seek(0)
        ids: dict[str, list[int]] = {}
        for message in map(json.loads, output):
            if message["type"] == "RECORD":
                ids.setdefault(message["stream"], []).append(message["record"]["id"])
    return seconds, rss, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=None,
                        help="per stream (default 40000; 5000 with --streams; 400 parents)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    case = parser.add_mutually_exclusive_group()
    case.add_argument("--streams", type=int, default=0)
    case.add_argument("--children", action="store_true")
    args = parser.parse_args()
    if args.records is None:
        args.records = 400 if args.children else 5_000 if args.streams else 40_000

    proc, url = start_server(args.records, args.latency)
    try:
        started = time.perf_counter()
        count = sequential_loop(url, args)
        loop_rate = count / (time.perf_counter() - started)
        server_stats(url, reset=True)
        config, expected = configs(url, args)
        seconds, rss, ids = run_concurrent_tap(config)
        stats = server_stats(url)
    finally:
        proc.terminate()
    tap_rate = count / seconds
    in_order = ids == expected
    what = ("1 stream" if not (args.streams or args.children) else
            f"{args.streams} streams" if args.streams else
            f"{args.records} parents x {CHILDREN} children")
    print(f"tap-rest-api concurrency {args.concurrency} vs a sequential requests loop, {what}, "
          f"{count} records, pages of {args.page_size}, {args.latency * 1000:.0f} ms a request")
    print(f"  tap {tap_rate:,.0f} rec/s, loop {loop_rate:,.0f} rec/s, ratio "
          f"{tap_rate / loop_rate:.1f}x; {stats['requests']} requests, at most "
          f"{stats['peak_open']} in flight; every record once in page order: {in_order}; "
          f"tap peak RSS {rss / 1024:.0f} MiB")
    if not in_order or stats["peak_open"] > args.concurrency:
        raise SystemExit("the tap's output or its requests in flight are wrong")


if __name__ == "__main__":
    main()
