"""Report jobs: create, poll until done, download the files (pre-signed on another origin)."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import CANARY_KEY, CANARY_TOKEN, assert_no_canary

SCHEMA = [{"name": "campaign", "type": "string"}, {"name": "clicks", "type": "integer"}]


def _report(server: HTTPServer, **poll: object) -> dict:
    return {
        "name": "spend",
        "auth": {"type": "bearer", "token": CANARY_TOKEN},
        "headers": {"developer-token": CANARY_KEY},
        "schema": SCHEMA,
        "response": {"format": "csv"},
        "report": {
            "create": {"url": server.url_for("/reports"), "method": "POST",
                       "body": {"fields": ["campaign", "clicks"]}},
            "poll": {"url": server.url_for("/reports/{job.job.id}"), "every": 0.05,
                     "status_field": "state", "done": ["DONE"], "failed": ["FAILED"], **poll},
            "download": {"url_field": "files"},
        },
    }


def _statuses(states: list[str], answer: dict) -> Callable[[Request], Response]:
    """A poll handler answering each state in turn (the last one from then on)."""
    calls = iter(states)

    def handler(request: Request) -> Response:
        state = next(calls, states[-1])
        return Response(json.dumps({"state": state, **(answer if state != "PENDING" else {})}),
                        content_type="application/json")
    return handler


def test_job_pending_running_done_with_presigned_downloads_elsewhere(
        httpserver: HTTPServer, other_server: HTTPServer, tap):
    httpserver.expect_request("/reports", method="POST", json={"fields": ["campaign", "clicks"]},
                              headers={"Authorization": f"Bearer {CANARY_TOKEN}",
                                       "developer-token": CANARY_KEY,
                                       "Accept": "application/json"}
                              ).respond_with_json({"job": {"id": "r42"}})
    files = [other_server.url_for("/bucket/part-1.csv.gz") + "?X-Amz-Signature=abc",
             other_server.url_for("/bucket/part-2.csv")]
    httpserver.expect_request("/reports/r42").respond_with_handler(
        _statuses(["PENDING", "RUNNING", "DONE"], {"files": files}))
    other_server.expect_request("/bucket/part-1.csv.gz").respond_with_data(
        gzip.compress(b"campaign,clicks\nsummer,12\nwinter,\n"))
    other_server.expect_request("/bucket/part-2.csv").respond_with_data(
        b"campaign,clicks\nspring,3\n")
    run = tap({"streams": [_report(httpserver)]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"campaign": "summer", "clicks": 12},
                             {"campaign": "winter", "clicks": None},
                             {"campaign": "spring", "clicks": 3}]
    polls = [r for r, _ in httpserver.log if r.path.startswith("/reports/")]
    assert len(polls) == 3
    for request, _ in other_server.log:
        assert "Authorization" not in request.headers
        assert request.headers["Accept"].startswith("text/csv")
        assert_no_canary(str(request.headers), request.url)


def test_a_failed_job_fails_the_stream_quoting_its_message(httpserver: HTTPServer, tap):
    httpserver.expect_request("/reports").respond_with_json({"job": {"id": "7"}})
    httpserver.expect_request("/reports/7").respond_with_handler(
        _statuses(["RUNNING", "FAILED"], {"message": "quota exceeded for customer"}))
    run = tap({"streams": [_report(httpserver)]})
    assert run.returncode != 0
    assert ("stream 'spend': report job /reports/7 failed with status 'FAILED': quota exceeded "
            "for customer") in run.stderr
    assert run.records() == []


def test_a_job_that_never_finishes_fails_at_the_timeout(httpserver: HTTPServer, tap):
    httpserver.expect_request("/reports").respond_with_json({"job": {"id": "7"}})
    httpserver.expect_request("/reports/7").respond_with_handler(_statuses(["RUNNING"], {}))
    run = tap({"streams": [_report(httpserver, timeout=0.5)]})
    assert run.returncode != 0
    assert ("stream 'spend': report job /reports/7 not done within report.poll.timeout = 0.5 s "
            "(last status: 'RUNNING')") in run.stderr


def test_a_missing_job_field_names_the_placeholder(httpserver: HTTPServer, tap):
    httpserver.expect_request("/reports").respond_with_json({"id": "7"})
    run = tap({"streams": [_report(httpserver)]})
    assert run.returncode != 0
    assert "report.poll.url needs {job.job.id}, which the create answer lacks" in run.stderr


def test_sigterm_while_polling_stops_at_once(httpserver: HTTPServer, tmp_path: Path):
    polled = threading.Event()

    def pending(request: Request) -> Response:
        polled.set()
        return Response(json.dumps({"state": "RUNNING"}), content_type="application/json")

    httpserver.expect_request("/reports").respond_with_json({"job": {"id": "7"}})
    httpserver.expect_request("/reports/7").respond_with_handler(pending)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"streams": [_report(httpserver, every=60)]}))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tap-rest-api"), "--config",
                             str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert polled.wait(timeout=30), "the tap never polled"
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)  # far less than the 60 s between polls
    assert proc.returncode == 143, stderr.decode()
    assert_no_canary(stdout, stderr)
    assert ("stream 'spend': report job /reports/7 left unfinished (last status: RUNNING): "
            "stopped") in stderr.decode()
    assert len([r for r, _ in httpserver.log if r.path == "/reports/7"]) == 1


def test_report_settings_are_checked_before_any_request(httpserver: HTTPServer, tap):
    settings = _report(httpserver)
    del settings["schema"]
    settings["pagination"] = {"type": "page"}
    settings["report"]["poll"]["url"] = httpserver.url_for("/reports/{job.}")
    run = tap({"streams": [settings, {"name": "nothing"}]})
    assert run.returncode != 0
    assert "streams[0].schema: required with report" in run.stderr
    assert "streams[0].pagination: does not apply to a stream with report" in run.stderr
    assert "streams[0].report.poll.url: {job.} is not a placeholder" in run.stderr
    assert "streams[1].url: required setting is missing (or a report block" in run.stderr
    assert httpserver.log == []


def test_a_child_report_stream_runs_one_job_per_parent_record(httpserver: HTTPServer, tap):
    httpserver.expect_request("/accounts").respond_with_json([{"id": 1}, {"id": 2}])
    for account in (1, 2):
        httpserver.expect_request(f"/accounts/{account}/reports", method="POST",
                                  json={"account": account}).respond_with_json({"id": account})
        httpserver.expect_request(f"/jobs/{account}").respond_with_json(
            {"state": "DONE", "files": httpserver.url_for(f"/files/{account}.csv")})
        httpserver.expect_request(f"/files/{account}.csv").respond_with_data(
            f"campaign,clicks\nc{account},{account}\n".encode())
    child = _report(httpserver)
    child["report"]["create"] = {"url": httpserver.url_for("/accounts/{parent.id}/reports"),
                                 "body": {"account": "{parent.id}"}}
    child["report"]["poll"]["url"] = httpserver.url_for("/jobs/{job.id}")
    child.update(parent="accounts", include_from_parent=["id"])
    run = tap({"streams": [{"name": "accounts", "url": httpserver.url_for("/accounts"),
                            "schema": [{"name": "id", "type": "integer"}]}, child]})
    assert run.returncode == 0, run.stderr
    assert run.records("spend") == [{"campaign": "c1", "clicks": 1, "_accounts_id": 1},
                                    {"campaign": "c2", "clicks": 2, "_accounts_id": 2}]


def test_retry_after_on_a_poll_answer_wins_over_every(httpserver: HTTPServer, tap):
    states = iter(["RUNNING", "DONE"])

    def poll(request: Request) -> Response:
        state = next(states)
        answer = {"state": state, "files": httpserver.url_for("/f.csv")}
        return Response(json.dumps(answer), content_type="application/json",
                        headers={"Retry-After": "0"})

    httpserver.expect_request("/reports").respond_with_json({"job": {"id": "1"}})
    httpserver.expect_request("/reports/1").respond_with_handler(poll)
    httpserver.expect_request("/f.csv").respond_with_data(b"campaign,clicks\na,1\n")
    # Waiting `every` (60 s) would pass the 30 s timeout: the job would fail.
    run = tap({"streams": [_report(httpserver, every=60, timeout=30)]})
    assert run.returncode == 0, run.stderr
    assert run.records() == [{"campaign": "a", "clicks": 1}]
