"""Session login against a local API whose sessions expire after 3 requests: the tap logs in
again when told, loses no record, logs in once per expiry however many threads were refused,
and never shows the credentials or the session."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import CANARY_PASSWORD, CANARY_USER
from tests.session_api import SessionApi


@pytest.mark.parametrize("deliver", ["field", "header", "cookie"])
def test_expired_sessions_are_renewed_and_no_record_is_lost(
    session_api: SessionApi, tap, deliver: str
):
    session_api.deliver = deliver

    run = tap({"streams": [session_api.stream(auth=session_api.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(30))
    assert len(session_api.logins) == 5  # 15 pages, 3 per session
    assert session_api.logins[1:] == [0, 0, 0, 0]  # each login replaced an expired session
    assert f"Session: logged in at {session_api.login_url}" in run.stderr


def test_four_threads_refused_together_log_in_once_per_expiry(session_api: SessionApi, tap):
    session_api.total, session_api.page_size = 200, 2

    run = tap({"concurrency": 4,
               "streams": [session_api.stream(auth=session_api.auth(), concurrency=4)]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(200))
    assert session_api.refused > 0
    assert session_api.logins[1:] == [0] * (len(session_api.logins) - 1), (
        "a login replaced a session that was still valid")
    assert len(session_api.logins) >= 34  # 100 pages, at most 3 per session


def test_a_session_with_a_lifetime_is_renewed_before_it_expires(session_api: SessionApi, tap):
    session_api.uses, session_api.expires_in = None, 1

    run = tap({"streams": [session_api.stream(auth=session_api.auth(
        expires_in_field="data.expires_in"))]})

    assert run.returncode == 0, run.stderr
    assert session_api.refused == 0
    assert "expires in 1 s" in run.stderr


def test_a_refused_login_names_the_url_and_status_never_the_credentials(
    session_api: SessionApi, tap
):
    auth = session_api.auth()
    auth["login"]["body"]["password"] = f"{CANARY_PASSWORD}-wrong"

    run = tap({"streams": [session_api.stream(auth=auth)]})

    assert run.returncode != 0
    assert f"Session login to {session_api.login_url} refused: HTTP 403" in run.stderr
    assert CANARY_USER not in run.stderr


def test_session_cookies_go_only_to_the_login_and_stream_origins(
    session_api: SessionApi, other_server: HTTPServer, tap
):
    session_api.deliver = "cookie"
    other_server.expect_request("/elsewhere").respond_with_json({"data": [{"id": 1}]})
    redirect_to = other_server.url_for("/elsewhere")
    session_api.server.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": redirect_to})

    run = tap({"streams": [{"name": "moved", "url": session_api.server.url_for("/moved"),
                            "response": {"root_key": "data"}, "auth": session_api.auth()}]})

    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    assert len(session_api.logins) == 1
    (request, _), = other_server.log
    assert "Cookie" not in request.headers


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ({"url": "https://x/login", "body": {}},
         "streams[0].auth.login: needs exactly one of token_field (a dot path in the answer), "
         "token_header or cookie: true"),
        ({"url": "ftp://x/login", "cookie": True},
         "streams[0].auth.login.url: required: the login endpoint's http(s) URL"),
        ({"url": "https://x/login", "cookie": True, "ttl": 0},
         "streams[0].auth.login.ttl: expected seconds above 0, got 0"),
    ],
)
def test_session_settings_are_checked_before_any_request(tap, httpserver, login, message):
    run = tap({"streams": [{"name": "s", "url": httpserver.url_for("/s"),
                            "auth": {"type": "session", "login": login}}]})

    assert run.returncode != 0
    assert message in run.stderr
    assert httpserver.log == []


def test_a_login_form_is_sent_form_encoded(session_api: SessionApi, tap):
    auth = session_api.auth()
    auth["login"]["form"] = auth["login"].pop("body")

    run = tap({"streams": [session_api.stream(auth=auth)]})

    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 30
    (login, _), *_ = session_api.server.log
    assert login.content_type == "application/x-www-form-urlencoded"
