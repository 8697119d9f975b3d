"""Root streams synced side by side (top-level ``concurrency`` above 1), over real HTTP: one
API serves every stream and counts the requests open at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import assert_no_canary
from tests.tap.conftest import TapRun, stream
from tests.tap.pages_api import PagesApi

OFFSET = {"type": "offset", "page_size": 100, "total_field": "meta.total"}
SORTED = {"replication_key": "updated", "param": "since", "sorted": True}
NAMES = ("alpha", "beta", "gamma", "delta")


def _config(url: str, names: tuple[str, ...] = NAMES, *, top: dict | None = None,
            **settings: object) -> dict:
    base = url.rsplit("/", 1)[0]
    return {**(top or {}), "streams": [
        stream(name, f"{base}/{name}", pagination=OFFSET, response={"root_key": "data"},
               incremental=SORTED, **settings) for name in names]}


def _assert_state_never_ahead(messages: list[dict]) -> dict[str, int]:
    """Every STATE's bookmark of each stream is at most the last record written for it;
    returns the last ``updated`` written per stream."""
    written: dict[str, int] = {}
    for message in messages:
        if message["type"] == "RECORD":
            written[message["stream"]] = message["record"]["updated"]
        elif message["type"] == "STATE":
            for name, bookmark in message["value"].get("bookmarks", {}).items():
                value = bookmark.get("replication_key_value")
                if value is not None:
                    assert value <= written[name], (name, value, written.get(name))
    return written


def test_streams_side_by_side_keep_page_order_and_the_cap(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=600, max_delay=0.03)
    with api.serving() as url:
        run = tap(_config(url, top={"concurrency": 3}))
    assert run.returncode == 0, run.stderr
    for name in NAMES:
        assert [r["id"] for r in run.records(name)] == list(range(600)), name
    order = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
    switches = sum(1 for before, after in pairwise(order) if before != after)
    assert switches > len(NAMES), "the streams were not read side by side"
    # Two streams read pages ahead at once would send up to 6; the run-wide cap holds 3.
    assert 1 < api.peak_open <= 3
    requested = api.paths()
    assert len(set(requested)) == len(requested) == 4 * 6
    written = _assert_state_never_ahead(run.messages)
    assert written == dict.fromkeys(NAMES, 599)
    final = run.messages[-1]
    assert final["type"] == "STATE"
    assert {name: b["replication_key_value"] for name, b in
            final["value"]["bookmarks"].items()} == dict.fromkeys(NAMES, 599)


def test_the_run_wide_cap_holds_two_streams_reading_pages_ahead(
        tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=2000, max_delay=0.03)
    with api.serving() as url:
        run = tap(_config(url, ("alpha", "beta"), top={"concurrency": 3}, concurrency=3))
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records("beta")] == list(range(2000))
    assert 1 < api.peak_open <= 3


def test_a_stream_share_of_1_is_one_request_at_a_time(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1000, max_delay=0.02)
    with api.serving() as url:
        run = tap(_config(url, ("alpha",), top={"concurrency": 4}, concurrency=1))
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records("alpha")] == list(range(1000))
    assert api.peak_open == 1


def test_concurrency_1_syncs_streams_one_after_another(tap: Callable[..., TapRun]) -> None:
    runs = []
    for top in ({}, {"concurrency": 1}):
        api = PagesApi(total=300)
        with api.serving() as url:
            runs.append(tap(_config(url, ("alpha", "beta"), top=top)))
        assert api.peak_open == 1
    untimed = [[{k: v for k, v in m.items() if k != "time_extracted"} for m in run.messages]
               for run in runs]
    assert untimed[0] == untimed[1]
    order = [m["stream"] for m in runs[0].messages if m["type"] == "RECORD"]
    assert order == ["alpha"] * 300 + ["beta"] * 300


def test_a_failing_stream_stops_the_others(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=20_000, max_delay=0.02, fail_at=300, fault_path="/beta")
    with api.serving() as url:
        run = tap(_config(url, ("alpha", "beta", "gamma"), top={"concurrency": 3},
                          rate_limit={"max_retries": 0}))
        alone = tap(_config(url, ("beta",), rate_limit={"max_retries": 0}))
    assert run.returncode != 0
    assert run.returncode == alone.returncode  # the exit code of that error, as without threads
    assert "Stream 'beta' failed: stopping the other streams" in run.stderr
    assert "HTTP 500 Internal Server Error for GET /beta: broken page" in run.stderr
    assert [r["id"] for r in run.records("beta")] == list(range(300))
    for name in ("alpha", "gamma"):  # stopped well before their 200 pages
        ids = [r["id"] for r in run.records(name)]
        assert ids == list(range(len(ids))) and len(ids) < 20_000
    written = _assert_state_never_ahead(run.messages)
    final = run.messages[-1]
    assert final["type"] == "STATE"
    assert {name: b["replication_key_value"] for name, b in
            final["value"]["bookmarks"].items()} == written


def test_requests_per_second_holds_across_stream_threads(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=500)
    with api.serving() as url:
        run = tap(_config(url, ("alpha", "beta", "gamma"), top={"concurrency": 3},
                          rate_limit={"requests_per_second": 10}))
    assert run.returncode == 0, run.stderr
    arrivals = sorted(at for at, _ in api.requests)
    assert len(arrivals) == 15
    assert {path.split("?")[0] for path in api.paths()} == {"/alpha", "/beta", "/gamma"}
    gaps = [after - before for before, after in pairwise(arrivals)]
    # 0.1 s apart at the server (less for scheduling on a busy machine); a limiter per thread would
    # let three requests in at once.
    assert min(gaps) > 0.05, gaps


@pytest.mark.parametrize(("signum", "expected_code"), [(signal.SIGTERM, 143),
                                                        (signal.SIGINT, 130)])
def test_a_stop_signal_with_requests_in_flight_in_several_streams(
        tmp_path: Path, signum: int, expected_code: int) -> None:
    api = PagesApi(total=2000, stall_from=300)
    with api.serving() as url:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(_config(url, ("alpha", "beta", "gamma"),
                                           top={"concurrency": 6})))
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"),
                                 "--config", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while api.peak_open < 6 or len({p.split("?")[0] for p in api.paths()}) < 3:
            assert time.monotonic() < deadline, "the streams never reached the stalled pages"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signum)
        stopped = time.monotonic()
        stdout, stderr = proc.communicate(timeout=10)
        assert time.monotonic() - stopped < 5
        assert api.peak_open <= 6
    assert proc.returncode == expected_code, stderr.decode()
    assert_no_canary(stdout, stderr)
    assert stdout.endswith(b"\n")
    messages = [json.loads(line) for line in stdout.decode().splitlines()]  # no partial line
    written = _assert_state_never_ahead(messages)
    assert written  # some streams wrote records before the stop
    for name in written:
        ids = [m["record"]["id"] for m in messages
               if m["type"] == "RECORD" and m["stream"] == name]
        assert ids == list(range(len(ids))) and len(ids) <= 300
    assert messages[-1]["type"] == "STATE"
    assert {name: b["replication_key_value"] for name, b in
            messages[-1]["value"]["bookmarks"].items()
            if "replication_key_value" in b} == written


def test_marks_and_batch_files_side_by_side(tap: Callable[..., TapRun], tmp_path: Path) -> None:
    api = PagesApi(total=450, max_delay=0.02)
    with api.serving() as url:
        config = _config(url, ("alpha", "beta", "gamma"), top={"concurrency": 3})
        for each in config["streams"]:
            del each["incremental"]
        marks = tap(config)
        config["batch_config"] = {"encoding": {"format": "parquet"},
                                  "storage": {"root": tmp_path.as_uri()}, "batch_size": 200}
        batches = tap(config)
    assert marks.returncode == 0, marks.stderr
    for name in ("alpha", "beta", "gamma"):  # each stream opens and completes its own version
        own = [m["type"] for m in marks.messages
               if m.get("stream") == name and m["type"] in ("RECORD", "ACTIVATE_VERSION")]
        assert own == ["ACTIVATE_VERSION"] + ["RECORD"] * 450 + ["ACTIVATE_VERSION"]
    assert batches.returncode == 0, batches.stderr
    for name in ("alpha", "beta", "gamma"):
        files = [path for m in batches.of_type("BATCH") if m["stream"] == name
                 for path in m["manifest"]]
        assert len(files) == 3
        ids = [row["id"] for path in files
               for row in pq.read_table(path.removeprefix("file://")).to_pylist()]
        assert ids == list(range(450))
        own = [m["type"] for m in batches.messages
               if m.get("stream") == name and m["type"] in ("BATCH", "ACTIVATE_VERSION")]
        assert own == ["ACTIVATE_VERSION", "BATCH", "BATCH", "BATCH", "ACTIVATE_VERSION"]


def _announced(messages: list[dict]) -> None:
    """Every STATE's bookmark of each stream is at most the last ``updated`` of the files its
    BATCH messages announced before it (records of a file not yet announced are not out)."""
    out: dict[str, int] = {}
    for message in messages:
        if message["type"] == "BATCH":
            for path in message["manifest"]:
                rows = pq.read_table(path.removeprefix("file://")).column("updated")
                out[message["stream"]] = max(out.get(message["stream"], -1), max(rows.to_pylist()))
        elif message["type"] == "STATE":
            for name, bookmark in message["value"].get("bookmarks", {}).items():
                value = bookmark.get("replication_key_value")
                if value is not None:
                    assert name in out and value <= out[name], (name, value, out.get(name))


@pytest.mark.parametrize(("top", "reading"), [({}, ("alpha",)),
                                             ({"concurrency": 3}, ("alpha", "beta", "gamma"))],
                         ids=["one by one", "side by side"])
def test_a_stop_while_a_batch_file_is_open_bookmarks_only_announced_files(
        tmp_path: Path, top: dict, reading: tuple[str, ...]) -> None:
    """Records of the file being written are bookmarked already; the final STATE of a stopped
    run (and any STATE before it) carries the bookmark of the last announced file instead."""
    api = PagesApi(total=2000, stall_from=300)
    with api.serving() as url:
        config = _config(url, ("alpha", "beta", "gamma"), top=top, concurrency=1)
        config["batch_config"] = {"encoding": {"format": "parquet"},
                                  "storage": {"root": tmp_path.as_uri()}, "batch_size": 120}
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"),
                                 "--config", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not all(any(p.startswith(f"/{name}?") and "offset=300" in p for p in api.paths())
                      for name in reading):
            assert time.monotonic() < deadline, "the streams never reached the stalled page"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143, stderr.decode()
    messages = [json.loads(line) for line in stdout.decode().splitlines()]
    _announced(messages)
    final = messages[-1]
    assert final["type"] == "STATE"
    # 300 records read, two files of 120 announced: records 240-299 wait in the open file
    assert {name: b["replication_key_value"] for name, b in
            final["value"]["bookmarks"].items()} == dict.fromkeys(reading, 239)
