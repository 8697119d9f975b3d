"""Pages read ahead (``concurrency`` above 1, offset and page pagination), over real HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import assert_no_canary
from tests.tap.conftest import TapRun, stream
from tests.tap.pages_api import PagesApi

PAGINATION = {
    "offset": {"type": "offset", "page_size": 100, "total_field": "meta.total"},
    "page": {"type": "page", "page_size": 100, "total_field": "meta.total"},
}


def _config(url: str, pagination: dict, *, top: dict | None = None, **settings: object) -> dict:
    return {**(top or {}), "streams": [stream("items", url, pagination=pagination,
                                              response={"root_key": "data"}, **settings)]}


def _ids(run: TapRun) -> list[int]:
    return [record["id"] for record in run.records("items")]


@pytest.mark.parametrize("kind", ["offset", "page"])
@pytest.mark.parametrize("with_total", [True, False])
def test_pages_come_out_in_order_when_answers_do_not(tap: Callable[..., TapRun], kind: str,
                                                     with_total: bool) -> None:
    api = PagesApi(total=2050, max_delay=0.03)
    pagination = dict(PAGINATION[kind])
    if not with_total:
        del pagination["total_field"]
    with api.serving() as url:
        run = tap(_config(url, pagination, concurrency=8))
    assert run.returncode == 0, run.stderr
    assert _ids(run) == list(range(2050))
    assert 1 < api.peak_open <= 8
    requested = api.paths()
    # Each page once, but the short last one: read ahead, then once more to confirm the end
    # as a sequential read finds it (the list may have grown meanwhile).
    last = "offset=2000" if kind == "offset" else "page=21"
    twice = [path for path in set(requested) if requested.count(path) > 1]
    assert [last in path for path in twice] == [True], "a page was requested twice"
    assert run.stderr.count('"http_request_duration"') == len(requested)  # pipeline progress
    if with_total:
        assert len(requested) == 22  # exactly the pages holding records, and the confirmation
    else:  # ahead up to the short last page, then at most 7 answers beyond it, discarded
        assert 22 <= len(requested) <= 29


def test_stream_concurrency_caps_the_taps(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1000, max_delay=0.03)
    with api.serving() as url:
        run = tap(_config(url, PAGINATION["offset"], top={"concurrency": 8}, concurrency=3))
    assert run.returncode == 0, run.stderr
    assert _ids(run) == list(range(1000))
    assert 1 < api.peak_open <= 3


def test_the_first_page_fixes_the_page_size_when_the_server_caps_it(
        tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1000, cap=50, max_delay=0.02)
    with api.serving() as url:
        run = tap(_config(url, PAGINATION["offset"], concurrency=8))
    assert run.returncode == 0, run.stderr
    assert _ids(run) == list(range(1000))
    offsets = sorted(int(path.split("offset=")[1].split("&")[0]) for path in api.paths())
    assert offsets == list(range(0, 1000, 50))


def test_a_short_page_in_the_middle_falls_back_to_one_request_at_a_time(
        tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1000, short_at=500, max_delay=0.02)
    with api.serving() as url:
        run = tap(_config(url, PAGINATION["offset"], concurrency=8))
    assert run.returncode == 0, run.stderr
    # Offset 500 brought 60 records: the next page starts at 560, never at the 600 read ahead.
    assert _ids(run) == list(range(1000))
    assert "page 6 has 60 records where 100 were expected" in run.stderr
    after = [path for path in api.paths() if "offset=560" in path or "offset=660" in path]
    assert len(after) == 2


def test_max_pages_a_declared_schema_and_a_broken_body_ahead(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1000, truncated_at=200, max_delay=0.02)
    with api.serving() as url:
        run = tap(_config(url, {**PAGINATION["offset"], "max_pages": 4}, concurrency=8,
                          schema=[{"name": "id", "type": "integer"},
                                  {"name": "updated", "type": "string"}]))
    assert run.returncode == 0, run.stderr
    assert _ids(run) == list(range(400))
    assert {type(record["updated"]) for record in run.records()} == {str}
    assert "stopped at pagination.max_pages = 4" in run.stderr
    # The cut-off body was requested again (retried in its worker); no page beyond the 4th.
    assert sorted(api.paths()) == sorted(
        [f"/items?offset={offset}&limit=100" for offset in (0, 100, 200, 200, 300)])


def test_concurrency_1_sends_exactly_the_requests_of_no_setting(
        tap: Callable[..., TapRun]) -> None:
    requested = []
    for settings in ({}, {"concurrency": 1}, {"concurrency": 4}):
        api = PagesApi(total=730)
        with api.serving() as url:
            run = tap(_config(url, PAGINATION["page"], **settings))
        assert run.returncode == 0, run.stderr
        assert _ids(run) == list(range(730))
        requested.append(api.paths())
    assert requested[0] == requested[1]
    # Read ahead: the same requests, and the short last page once more (the end confirmed).
    assert api.peak_open > 0
    assert sorted(requested[2]) == sorted([*requested[0], requested[0][-1]])


def test_the_rate_limit_holds_across_threads(tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=1600, retry_after_at=800)
    with api.serving() as url:
        run = tap(_config(url, PAGINATION["offset"], concurrency=8,
                          rate_limit={"requests_per_second": 10}))
    assert run.returncode == 0, run.stderr
    assert _ids(run) == list(range(1600))
    arrivals = [at for at, _ in api.requests]
    # Loose bounds for a busy machine: no one-second window holds more than 10 (+2 for thread
    # scheduling) requests; a limiter per thread would let through 8 times as many.
    for index, start in enumerate(arrivals):
        assert sum(1 for at in arrivals[index:] if at < start + 1.0) <= 12
    # The 429's Retry-After (1 s) held every thread, not only the one that got it.
    refused = next(at for at, path in api.requests if "offset=800" in path)
    assert not [at for at in arrivals if refused + 0.25 < at < refused + 0.8]


def test_a_failing_page_stops_the_stream_as_one_request_at_a_time_does(
        tap: Callable[..., TapRun]) -> None:
    runs = []
    for concurrency in (8, 1):
        api = PagesApi(total=1000, fail_at=500, max_delay=0.02)
        with api.serving() as url:
            runs.append(tap(_config(url, PAGINATION["offset"], concurrency=concurrency,
                                    rate_limit={"max_retries": 0},
                                    incremental={"replication_key": "updated",
                                                 "param": "since", "sorted": True})))
    ahead, sequential = runs
    assert ahead.returncode != 0 and sequential.returncode != 0
    assert _ids(ahead) == list(range(500))  # every page before the failed one, nothing after
    assert "HTTP 500 Internal Server Error for GET /items: broken page" in ahead.stderr
    # No STATE runs ahead of the records written: the same STATE as one at a time (none).
    assert ahead.of_type("STATE") == sequential.of_type("STATE")
    assert [m["type"] for m in ahead.messages] == [m["type"] for m in sequential.messages]


@pytest.mark.parametrize(("signum", "expected_code"), [(signal.SIGTERM, 143),
                                                        (signal.SIGINT, 130)])
def test_a_stop_signal_with_requests_in_flight(tmp_path: Path, signum: int,
                                         expected_code: int) -> None:
    api = PagesApi(total=2000, stall_from=300)
    with api.serving() as url:
        config = _config(url, PAGINATION["offset"], concurrency=4,
                         incremental={"replication_key": "updated", "param": "since",
                                      "sorted": True})
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"),
                                 "--config", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert api.stalled.wait(30), "the tap never reached the stalled pages"
        time.sleep(0.3)  # the main thread now waits on offset 300, requests in flight
        proc.send_signal(signum)
        stopped = time.monotonic()
        stdout, stderr = proc.communicate(timeout=10)
        assert time.monotonic() - stopped < 5
        assert 1 < api.peak_open <= 4
    assert proc.returncode == expected_code, stderr.decode()
    assert_no_canary(stdout, stderr)
    messages = [json.loads(line) for line in stdout.decode().splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert [r["id"] for r in records] == list(range(300))
    assert messages[-1]["type"] == "STATE"
    assert messages[-1]["value"]["bookmarks"]["items"]["replication_key_value"] == 299


@pytest.mark.parametrize(("where", "value"), [("stream", 0), ("top", 0), ("stream", "2")])
def test_concurrency_must_be_a_positive_integer(tap: Callable[..., TapRun], where: str,
                                               value: object) -> None:
    settings = {"concurrency": value}
    config = (_config("http://127.0.0.1:9/items", PAGINATION["offset"], top=settings)
              if where == "top" else
              _config("http://127.0.0.1:9/items", PAGINATION["offset"], **settings))
    run = tap(config)
    assert run.returncode != 0
    assert "concurrency" in run.stderr
    assert not run.messages


class GrowingApi(PagesApi):
    """Newest first: after every page served, 2 new rows arrive at the head of the list (the
    rows already there move 2 places further), as a feed that grows while it is read."""

    def __init__(self, total: int) -> None:
        super().__init__(total=total)
        self.rows = list(range(total))

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        offset = int(path.split("offset=")[1].split("&")[0])
        with self._lock:
            page = self.rows[offset:offset + 5]
            newest = max(self.rows) + 1
            self.rows[:0] = [newest + 1, newest]
        body = json.dumps({"data": [{"id": i, "updated": i} for i in page]}).encode()
        return 200, {"Content-Type": "application/json"}, body


@pytest.mark.parametrize("concurrency", [1, 8])
def test_pages_ahead_never_read_less_than_one_request_at_a_time(
        tap: Callable[..., TapRun], concurrency: int) -> None:
    """15 rows in pages of 5, 2 rows inserted at the head after every page: every row that was
    there from the start is read at least once (duplicates allowed: the offsets shift)."""
    api = GrowingApi(total=15)
    with api.serving() as url:
        run = tap(_config(url, {"type": "offset", "page_size": 5}, concurrency=concurrency))
    assert run.returncode == 0, run.stderr
    assert set(range(15)) <= set(_ids(run))
