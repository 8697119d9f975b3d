"""Benchmark: tap-rest-api with ``concurrency`` (pages ahead) against a sequential requests loop.

A local API (its own process, serving many requests at once) answers each request after a fixed
latency, as a remote one would: one offset stream with ``meta.total``. The loop reads page after
page; the tap reads the first page, then keeps up to ``concurrency`` requests in flight. The
server counts the requests open at once; the tap's records are checked: each exactly once, in
page order. Prints records/s, the ratio, the peak in flight and the tap's peak RSS.

    .venv/bin/python bench/tap_concurrency.py [--records 40000] [--page-size 100]
        [--latency 0.05] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import requests
from tap import plain_loop, run_tap, start_server


def server_stats(url: str, *, reset: bool = False) -> dict:
    """The API's counts since the last reset (requests served, most open at once)."""
    stats_url = url.rsplit("/", 1)[0] + "/_stats" + ("?reset=1" if reset else "")
    return requests.get(stats_url, timeout=10).json()


def run_concurrent_tap(url: str, page_size: int, concurrency: int,
                       ) -> tuple[float, int, list[int]]:
    """Seconds, peak RSS (KiB) and the record ids, in output order, of one tap run."""
    settings = {"concurrency": concurrency, "pagination": {"total_field": "meta.total"}}
    with tempfile.TemporaryFile() as output:
        seconds, rss = run_tap(url, page_size, settings, output)
        output.seek(0)
        ids = [message["record"]["id"] for message in map(json.loads, output)
               if message["type"] == "RECORD"]
    return seconds, rss, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=40_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    proc, url = start_server(args.records, args.latency)
    try:
        started = time.perf_counter()
        count = plain_loop(url, args.page_size)
        loop_rate = count / (time.perf_counter() - started)
        server_stats(url, reset=True)
        seconds, rss, ids = run_concurrent_tap(url, args.page_size, args.concurrency)
        stats = server_stats(url)
    finally:
        proc.terminate()
    tap_rate = args.records / seconds
    in_order = ids == list(range(args.records))
    print(f"tap-rest-api concurrency {args.concurrency} vs a sequential requests loop, "
          f"{args.records} records, pages of {args.page_size}, {args.latency * 1000:.0f} ms a "
          "request")
    print(f"  tap {tap_rate:,.0f} rec/s, loop {loop_rate:,.0f} rec/s, ratio "
          f"{tap_rate / loop_rate:.1f}x; {stats['requests']} requests, at most "
          f"{stats['peak_open']} in flight; every record once in page order: {in_order}; "
          f"tap peak RSS {rss / 1024:.0f} MiB")
    if not in_order or stats["peak_open"] > args.concurrency:
        raise SystemExit("the tap's output or its requests in flight are wrong")


if __name__ == "__main__":
    main()
