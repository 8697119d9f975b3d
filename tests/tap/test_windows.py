"""Incremental windows against an API that refuses ranges wider than 7 days with 400."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import run_plugin, singer_messages
from tests.tap.conftest import stream
from tests.tap.windowed_api import START, WindowedApi, charges, iso

DAY = timedelta(days=1)
END = START + 90 * DAY
CURSOR = {"type": "cursor", "cursor_from": "last_record", "cursor_field": "id",
          "cursor_param": "starting_after", "stop_field": "has_more", "limit_param": None}


def _config(server: HTTPServer, *, window: dict | None = None, concurrency: int = 1,
            **incremental: object) -> dict:
    settings = {"replication_key": "created", "start_value": iso(START), "end_value": iso(END),
                "window": {"step": "7d", "start_param": "created[gte]",
                           "end_param": "created[lt]", **(window or {})},
                **incremental}
    return {"streams": [stream("charges", server.url_for("/charges"),
                               response={"root_key": "data"}, pagination=CURSOR,
                               schema=[{"name": "id", "type": "integer"},
                                       {"name": "created", "type": "string"}],
                               incremental=settings, concurrency=concurrency,
                               rate_limit={"max_retries": 0})]}


def _bookmarks(run, name: str = "charges") -> list[str]:
    """The bookmarks of the run's STATE messages, each once (the final STATE repeats)."""
    found: list[str] = []
    for message in run.of_type("STATE"):
        value = message["value"].get("bookmarks", {}).get(name, {}).get("replication_key_value")
        if value and (not found or found[-1] != value):
            found.append(value)
    return found


def _windows(first: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    found, start = [], first
    while start < end:
        found.append((start, min(start + 7 * DAY, end)))
        start += 7 * DAY
    return found


def _state_file(tmp_path, run) -> str:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(run.of_type("STATE")[-1]["value"]))
    return str(path)


def _in_range(rows: list[dict], start: datetime, end: datetime) -> list[int]:
    return [r["id"] for r in rows if start <= datetime.fromisoformat(r["created"]) < end]


def test_a_90_day_first_run_reads_13_windows_of_7_days_with_state_after_each(
        httpserver: HTTPServer, tap):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)

    run = tap(_config(httpserver))

    assert run.returncode == 0, run.stderr
    expected = _windows(START, END)
    assert len(expected) == 13
    assert api.ranges == expected
    assert [r["id"] for r in run.records()] == _in_range(rows, START, END)
    assert _bookmarks(run) == [iso(end) for _, end in expected]
    # each STATE comes after every record of its window and before the next window's
    seen_before: list[str] = []
    for message in run.messages:
        if message["type"] == "RECORD":
            seen_before.append(message["record"]["created"])
        elif message["type"] == "STATE":
            bookmark = message["value"]["bookmarks"]["charges"].get("replication_key_value")
            if bookmark:
                assert all(created < bookmark for created in seen_before)
                assert len(seen_before) == len(_in_range(rows, START,
                                                         datetime.fromisoformat(bookmark)))


def test_a_failure_in_window_5_resumes_there_next_run(httpserver: HTTPServer, tap, tmp_path):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)
    windows = _windows(START, END)
    api.fail_at = {windows[4][0]}

    failed = tap(_config(httpserver))

    assert failed.returncode != 0
    assert "HTTP 500" in failed.stderr
    assert _bookmarks(failed)[-1] == iso(windows[3][1])
    first_ids = [r["id"] for r in failed.records()]
    assert first_ids == _in_range(rows, START, windows[3][1])

    api.fail_at = set()
    api.ranges.clear()
    rerun = tap(_config(httpserver), "--state", _state_file(tmp_path, failed))

    assert rerun.returncode == 0, rerun.stderr
    assert api.ranges == windows[4:]
    second_ids = [r["id"] for r in rerun.records()]
    assert not set(first_ids) & set(second_ids)  # none read twice
    assert first_ids + second_ids == _in_range(rows, START, END)  # none skipped
    assert _bookmarks(rerun)[-1] == iso(END)


def test_lookback_starts_the_next_run_before_the_bookmark(httpserver: HTTPServer, tap,
                                                          tmp_path):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)
    first = tap(_config(httpserver, end_value=iso(START + 14 * DAY)))
    assert _bookmarks(first)[-1] == iso(START + 14 * DAY)
    api.ranges.clear()

    rerun = tap(_config(httpserver, end_value=iso(START + 21 * DAY), lookback="2d"),
                "--state", _state_file(tmp_path, first))

    assert rerun.returncode == 0, rerun.stderr
    assert api.ranges == [(START + 12 * DAY, START + 19 * DAY),
                          (START + 19 * DAY, START + 21 * DAY)]
    assert [r["id"] for r in rerun.records()] == _in_range(rows, START + 12 * DAY,
                                                           START + 21 * DAY)


def test_windows_ahead_with_concurrency_4_are_written_in_window_order(httpserver: HTTPServer,
                                                                       tap):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)

    run = tap(_config(httpserver, concurrency=4))

    assert run.returncode == 0, run.stderr
    assert sorted(api.ranges) == _windows(START, END)
    assert [r["id"] for r in run.records()] == _in_range(rows, START, END)
    assert _bookmarks(run) == [iso(end) for _, end in _windows(START, END)]


def test_a_failure_ahead_keeps_state_at_the_last_window_written(httpserver: HTTPServer, tap):
    rows = charges()
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)
    windows = _windows(START, END)
    api.fail_at = {windows[4][0]}

    run = tap(_config(httpserver, concurrency=4))

    assert run.returncode != 0
    assert _bookmarks(run)[-1] == iso(windows[3][1])
    assert [r["id"] for r in run.records()] == _in_range(rows, START, windows[3][1])


@pytest.mark.parametrize(("fmt", "first_start", "first_end"), [
    ("iso8601", "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"),
    ("unix", "1704067200", "1704672000"),
    ("unix_ms", "1704067200000", "1704672000000"),
    ("%Y-%m-%dT%H:%M:%S", "2024-01-01T00:00:00", "2024-01-08T00:00:00"),
])
def test_every_format_sends_the_bounds_the_api_parses(httpserver: HTTPServer, tap, fmt,
                                                      first_start, first_end):
    rows = charges(days=20)
    api = WindowedApi(rows, fmt=fmt)
    httpserver.expect_request("/charges").respond_with_handler(api)

    run = tap(_config(httpserver, end_value=iso(START + 20 * DAY), window={"format": fmt}))

    assert run.returncode == 0, run.stderr
    first = httpserver.log[0][0].args
    assert (first["created[gte]"], first["created[lt]"]) == (first_start, first_end)
    assert [r["id"] for r in run.records()] == _in_range(rows, START, START + 20 * DAY)


def test_a_date_format_with_granularity_sends_an_inclusive_end(httpserver: HTTPServer, tap):
    rows = charges(days=10)
    api = WindowedApi(rows, fmt="%Y-%m-%d", inclusive_end=True)
    httpserver.expect_request("/charges").respond_with_handler(api)

    run = tap(_config(httpserver, end_value=iso(START + 10 * DAY),
                      window={"format": "%Y-%m-%d", "granularity": "1d"}))

    assert run.returncode == 0, run.stderr
    sent = [(r.args["created[gte]"], r.args["created[lt]"]) for r, _ in httpserver.log
            if "starting_after" not in r.args]
    assert sent == [("2024-01-01", "2024-01-07"), ("2024-01-08", "2024-01-10")]
    assert [r["id"] for r in run.records()] == [r["id"] for r in rows]


def test_placeholders_fill_the_url_and_a_post_body(httpserver: HTTPServer, tap):
    rows = charges(days=14)
    api = WindowedApi(rows, fmt="unix")
    httpserver.expect_request("/reports/1704067200/charges",
                              method="POST").respond_with_handler(api)
    config = _config(httpserver, end_value=iso(START + 7 * DAY),
                     window={"format": "unix", "start_param": None, "end_param": None})
    config["streams"][0].update(
        url=httpserver.url_for("/reports") + "/{window.start}/charges", method="POST",
        body={"created[gte]": "{window.start}", "created[lt]": "{window.end}"},
        pagination=None)
    api.page_size = 1000
    config["streams"][0]["incremental"]["window"]["format"] = "unix"

    run = tap(config)

    assert run.returncode == 0, run.stderr
    body = json.loads(httpserver.log[0][0].data)
    assert body == {"created[gte]": 1704067200, "created[lt]": 1704672000}
    assert [r["id"] for r in run.records()] == _in_range(rows, START, START + 7 * DAY)


def test_a_nested_replication_key_in_unix_milliseconds_is_compared_as_instants(
        httpserver: HTTPServer, tap):
    events = [{"event": f"e{i}", "properties": {"time": 1704067200000 + i * 36_000_000}}
              for i in range(30)]

    def answer(request):
        start, end = int(request.args["from"]), int(request.args["to"])
        found = [e for e in events if start <= e["properties"]["time"] < end]
        return Response(json.dumps(found), content_type="application/json")

    httpserver.expect_request("/export").respond_with_handler(answer)
    run = tap({"streams": [stream("events", httpserver.url_for("/export"), incremental={
        "replication_key": "properties.time", "start_value": iso(START),
        "end_value": "2024-01-03T00:00:00Z",
        "window": {"step": "1d", "start_param": "from", "end_param": "to",
                   "format": "unix_ms"}})]})

    assert run.returncode == 0, run.stderr
    assert [r["event"] for r in run.records()] == [f"e{i}" for i in range(5)]
    assert _bookmarks(run, "events") == ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]


@pytest.mark.parametrize(("incremental", "expected"), [
    ({"window": {"step": "0d"}}, "streams[0].incremental.window.step: expected a duration "
                                 "above zero"),
    ({"window": {"step": "fortnight"}}, "streams[0].incremental.window.step: expected a "
                                        "duration"),
    ({"end_value": "2023-01-01T00:00:00Z", "window": {"step": "7d"}},
     "streams[0].incremental.end_value: '2023-01-01T00:00:00Z' is before start_value"),
    ({"start_value": None, "window": {"step": "7d"}},
     "streams[0].incremental.start_value: required with window"),
    ({"window": {"step": "7d", "format": "%H:%M"}},
     "streams[0].incremental.window.format: '%H:%M' cannot encode a timestamp"),
    ({"window": {"step": "6h", "format": "%Y-%m-%d"}},
     "streams[0].incremental.window.format: '%Y-%m-%d' writes two successive window bounds"),
    ({"window": {"step": "P1M"}}, "streams[0].incremental.window.step: expected a duration "
                                  "such as 7d, 6h, 30m, 90s or ISO 8601 (P7D, PT6H; no months"),
    ({"param": "since", "window": {"step": "7d"}},
     "streams[0].incremental.param: not with window"),
    ({"window": None, "param": "since", "lookback": "1d"},
     "streams[0].incremental.lookback: needs window"),
])
def test_window_mistakes_are_named_before_any_request(httpserver: HTTPServer, tap,
                                                      incremental, expected):
    settings = {"replication_key": "created", "start_value": "2024-01-01T00:00:00Z",
                **incremental}
    run = tap({"streams": [stream("x", httpserver.url_for("/x"), incremental=settings)]})
    assert run.returncode != 0
    assert expected in run.stderr
    assert httpserver.log == []


def test_a_window_placeholder_without_a_window_is_named(httpserver: HTTPServer, tap):
    run = tap({"streams": [stream("x", httpserver.url_for("/x"),
                                  params={"from": "{window.start}"})]})
    assert run.returncode != 0
    assert ("streams[0].params: uses a {window.start}/{window.end} placeholder, but "
            "streams[0].incremental.window is not configured") in run.stderr
    assert httpserver.log == []


def test_nothing_to_read_when_the_bookmark_reached_the_end(httpserver: HTTPServer, tap,
                                                           tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"bookmarks": {"charges": {
        "replication_key": "created", "replication_key_value": iso(END)}}}))
    run = tap(_config(httpserver), "--state", str(state))
    assert run.returncode == 0, run.stderr
    assert httpserver.log == []
    assert _bookmarks(run)[-1] == iso(END)


def test_without_end_value_windows_end_at_the_run_start(httpserver: HTTPServer, tap):
    now = datetime.now(timezone.utc)
    api = WindowedApi(charges(days=3))
    httpserver.expect_request("/charges").respond_with_handler(api)
    run = tap(_config(httpserver, start_value=iso(now - 10 * DAY), end_value=None))
    assert run.returncode == 0, run.stderr
    assert len(api.ranges) == 2
    last_end = api.ranges[-1][1]
    assert timedelta(0) <= last_end - now.replace(microsecond=0) < timedelta(minutes=5)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_child_walks_its_windows_per_parent_with_a_bookmark_each(httpserver: HTTPServer, tap,
                                                                   tmp_path, concurrency):
    rows = charges(days=21)
    apis = {account: WindowedApi(rows) for account in ("a1", "a2", "a3")}
    httpserver.expect_request("/accounts").respond_with_json(
        [{"id": account} for account in apis])
    for account, api in apis.items():
        httpserver.expect_request(f"/accounts/{account}/charges").respond_with_handler(api)
    child = _config(httpserver, end_value=iso(START + 21 * DAY),
                    concurrency=concurrency)["streams"][0]
    child.update(url=httpserver.url_for("/accounts") + "/{parent.id}/charges",
                 parent="accounts")
    config = {"streams": [stream("accounts", httpserver.url_for("/accounts"),
                                 primary_keys=["id"]), child]}

    run = tap(config)

    assert run.returncode == 0, run.stderr
    for api in apis.values():
        assert sorted(api.ranges) == _windows(START, START + 21 * DAY)  # ahead: any order
    assert len(run.records("charges")) == 3 * len(rows)
    partitions = run.of_type("STATE")[-1]["value"]["bookmarks"]["charges"]["partitions"]
    bookmarks = sorted((p["context"]["_accounts_id"], p["replication_key_value"])
                       for p in partitions)
    assert bookmarks == [(account, iso(START + 21 * DAY)) for account in ("a1", "a2", "a3")]


def test_an_inferred_schema_reads_the_first_window_once(httpserver: HTTPServer, tap):
    rows = charges(days=14)
    api = WindowedApi(rows)
    httpserver.expect_request("/charges").respond_with_handler(api)
    config = _config(httpserver, end_value=iso(START + 14 * DAY))
    del config["streams"][0]["schema"]

    run = tap(config)

    assert run.returncode == 0, run.stderr
    assert api.ranges == _windows(START, START + 14 * DAY)  # the sample's page is the sync's
    assert [r["id"] for r in run.records()] == [r["id"] for r in rows]


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A local server answering each request in its own thread (windows in flight at once)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_run_stopped_inside_window_3_resumes_there(threaded_server: HTTPServer, tmp_path,
                                                     concurrency):
    httpserver = threaded_server
    rows = charges(days=35)
    api = WindowedApi(rows)
    windows = _windows(START, START + 35 * DAY)
    in_window_3, release = threading.Event(), threading.Event()

    def answer(request):
        if request.args.get("created[gte]") == iso(windows[2][0]) and request.args.get(
                "starting_after"):
            in_window_3.set()  # window 3's second page: its first page's records are out
            release.wait(timeout=20)
        return api(request)

    httpserver.expect_request("/charges").respond_with_handler(answer)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_config(httpserver, end_value=iso(START + 35 * DAY),
                                         concurrency=concurrency)))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"), "--config",
                             str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    try:
        assert in_window_3.wait(timeout=30), "the tap never reached window 3's second page"
        # window 2's STATE goes out while the tap waits on window 3 (with windows ahead,
        # window 3's request may be in flight long before)
        for line in proc.stdout:
            lines.append(line)
            if iso(windows[1][1]) in line.decode() and b'"STATE"' in line:
                break
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        release.set()
    assert proc.returncode == 143, stderr.decode()
    messages = [json.loads(line) for line in [*lines, *stdout.splitlines()]]
    bookmark = [m for m in messages if m["type"] == "STATE"][-1]["value"]["bookmarks"][
        "charges"]["replication_key_value"]
    assert bookmark == iso(windows[1][1])  # window 3 incomplete: the bookmark is its start
    first_ids = [m["record"]["id"] for m in messages if m["type"] == "RECORD"]

    state = tmp_path / "state.json"
    state.write_text(json.dumps([m for m in messages if m["type"] == "STATE"][-1]["value"]))
    api.ranges.clear()
    rerun = run_plugin("tap-rest-api", _config(httpserver, end_value=iso(START + 35 * DAY)),
                       tmp_path, "--state", str(state))
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert api.ranges == windows[2:]
    second_ids = [m["record"]["id"] for m in singer_messages(rerun.stdout)
                  if m["type"] == "RECORD"]
    # window 3's first page was written before the stop and is read again: the window is
    # the unit of resumption; nothing is skipped
    assert sorted(set(first_ids) | set(second_ids)) == [r["id"] for r in rows]
    assert set(first_ids) & set(second_ids) <= set(_in_range(rows, *windows[2]))


@pytest.mark.parametrize("step", ["P7D", "P1W", "168h"])
def test_iso_8601_and_short_steps_cut_the_same_windows(httpserver: HTTPServer, tap, step):
    api = WindowedApi(charges(days=15))
    httpserver.expect_request("/charges").respond_with_handler(api)
    run = tap(_config(httpserver, end_value=iso(START + 15 * DAY), window={"step": step}))
    assert run.returncode == 0, run.stderr
    assert api.ranges == _windows(START, START + 15 * DAY)
