"""Each auth form reaches the sink server, and the credentials never show up in output."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import CANARY_KEY, CANARY_PASSWORD, CANARY_TOKEN, CANARY_USER, run_plugin
from tests.oauth2_server import TokenServer
from tests.target_rest_api.conftest import SinkServer, singer_input

BASIC = "Basic " + base64.b64encode(f"{CANARY_USER}:{CANARY_PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("auth", "accepted"),
    [
        ({"type": "bearer", "token": CANARY_TOKEN},
         lambda r: r.headers.get("Authorization") == f"Bearer {CANARY_TOKEN}"),
        ({"type": "api_key", "header": "X-Api-Key", "key": CANARY_KEY},
         lambda r: r.headers.get("X-Api-Key") == CANARY_KEY),
        ({"type": "api_key", "param": "api_key", "key": CANARY_KEY},
         lambda r: r.query == f"api_key={CANARY_KEY}"),
        ({"type": "basic", "username": CANARY_USER, "password": CANARY_PASSWORD},
         lambda r: r.headers.get("Authorization") == BASIC),
    ],
    ids=["bearer", "api_key-header", "api_key-param", "basic"],
)
def test_auth_form_is_sent_and_never_logged(sink: SinkServer, tmp_path: Path, auth, accepted):
    sink.default = lambda got: Response(status=200 if accepted(got) else 401)
    # A failing first answer that echoes the request makes the target log a response body.
    sink.then(lambda got: Response(f"echo {got.headers} {got.query}", status=503))

    result = run_plugin(
        "target-rest-api",
        {"url": sink.url(), "auth": auth, "rate_limit": {"max_retry_wait": 0.1}},
        tmp_path,
        stdin=singer_input("s", range(3)),
    )

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 2
    assert all(accepted(got) for got in sink.received)
    assert "echo" in result.stderr.decode()


def test_wrong_credentials_fail_with_401(sink: SinkServer, tmp_path: Path):
    sink.default = lambda _: Response("bad token", status=401)

    result = run_plugin(
        "target-rest-api",
        {"url": sink.url(), "auth": {"type": "bearer", "token": CANARY_TOKEN}},
        tmp_path,
        stdin=singer_input("s", range(3), state={"n": 3}),
    )

    assert result.returncode != 0
    assert "HTTP 401" in result.stderr.decode()
    assert result.stdout == b""



def test_posts_with_an_oauth2_token_renewed_once_after_a_401(
    sink: SinkServer, token_server: TokenServer, tmp_path: Path
):
    def answer(got) -> Response:
        header = got.headers.get("Authorization", "")
        return Response(status=200 if token_server.accepts(header[7:]) else 401)

    sink.default = answer
    sink.then(lambda _: token_server.revoke_all() or Response(status=401))

    result = run_plugin(
        "target-rest-api",
        {"url": sink.url(), "auth": token_server.auth(), "batch_size": 2},
        tmp_path,
        stdin=singer_input("s", range(5), state={"n": 5}),
    )

    assert result.returncode == 0, result.stderr.decode()
    assert [got.headers["Authorization"] for got in sink.received] == [
        f"Bearer {token_server.issued[0]}", *[f"Bearer {token_server.issued[1]}"] * 3]
    assert sink.ids() == [0, 1, 0, 1, 2, 3, 4]
    assert len(token_server.requests) == 2
    assert not any(request.bearer_seen for request in token_server.requests)
