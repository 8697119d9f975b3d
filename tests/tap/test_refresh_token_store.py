"""A provider that rotates refresh tokens and revokes each used one (as Xero does): with a
``refresh_token_store`` consecutive runs, concurrent runs and a run killed right after a
rotation all leave a working token behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import BIN, CANARY_REFRESH_TOKEN, assert_no_canary
from tests.oauth2_server import ProtectedApi, TokenServer


def _config(api: ProtectedApi, token_server: TokenServer, store: Path) -> dict:
    return {"streams": [api.stream(auth=token_server.auth(
        grant_type="refresh_token", refresh_token=CANARY_REFRESH_TOKEN,
        refresh_token_store=str(store)))]}


def _stored(store: Path) -> str:
    return json.loads(store.read_text())["refresh_token"]


def test_two_consecutive_runs_both_succeed(
    httpserver: HTTPServer, token_server: TokenServer, tap, tmp_path: Path
):
    token_server.rotate = True
    api = ProtectedApi(httpserver, token_server, pages=2)
    store = tmp_path / "secrets" / "xero.json"

    first = tap(_config(api, token_server, store))
    second = tap(_config(api, token_server, store))

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert [r["id"] for r in second.records()] == [1, 2]
    assert _stored(store) == token_server.refresh_tokens[-1]
    assert len(token_server.refresh_tokens) == 3  # the configured one, then one per run
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert "using the refresh token kept in" not in first.stderr
    assert f"using the refresh token kept in {store}" in second.stderr
    assert sorted(p.name for p in store.parent.iterdir()) == ["xero.json", "xero.json.lock"]


def test_without_a_store_the_second_run_fails_on_the_revoked_token(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.rotate = True
    api = ProtectedApi(httpserver, token_server, pages=1)
    auth = token_server.auth(grant_type="refresh_token", refresh_token=CANARY_REFRESH_TOKEN)

    first = tap({"streams": [api.stream(auth=auth)]})
    second = tap({"streams": [api.stream(auth=auth)]})

    assert first.returncode == 0, first.stderr
    assert "set refresh_token_store to keep it" in first.stderr
    assert second.returncode != 0
    assert "'invalid_grant'" in second.stderr


def test_concurrent_runs_sharing_a_store_take_turns(
    httpserver: HTTPServer, token_server: TokenServer, tap, tmp_path: Path
):
    token_server.rotate, token_server.lifetime = True, 1
    token_server.delay = 0.2  # a wide window for two runs to use one refresh token
    api = ProtectedApi(httpserver, token_server, pages=8, delay=0.3)
    store = tmp_path / "store.json"
    runs: list = []

    threads = [threading.Thread(target=lambda: runs.append(tap(_config(api, token_server,
                                                                        store))))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-2000:] for run in runs]
    refreshes = [r for r in token_server.requests if r.form["grant_type"] == "refresh_token"]
    assert len(refreshes) >= 4  # each run renewed its 1 s tokens while the other did too
    assert _stored(store) == token_server.refresh_tokens[-1]


def test_a_run_killed_right_after_a_rotation_leaves_a_working_token(
    httpserver: HTTPServer, token_server: TokenServer, tap, tmp_path: Path
):
    token_server.rotate = True
    reached, release = threading.Event(), threading.Event()

    def hold_first_page(page: int) -> None:
        if page == 1 and not release.is_set():
            reached.set()
            release.wait(20)

    api = ProtectedApi(httpserver, token_server, pages=2, before_page=hold_first_page)
    store = tmp_path / "store.json"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_config(api, token_server, store)))
    process = subprocess.Popen([str(BIN / "tap-rest-api"), "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert reached.wait(60), "the tap never asked for the first page"
    process.send_signal(signal.SIGKILL)  # the rotated token is in use: the old one is revoked
    stdout, stderr = process.communicate(timeout=30)
    release.set()

    assert process.returncode == -signal.SIGKILL
    assert_no_canary(stdout, stderr)
    assert _stored(store) == token_server.refresh_tokens[-1] != CANARY_REFRESH_TOKEN
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".store")] == []
    after = tap(_config(api, token_server, store))
    assert after.returncode == 0, after.stderr
    assert [r["id"] for r in after.records()] == [1, 2]


def test_a_store_others_can_read_is_refused_before_any_request(
    httpserver: HTTPServer, token_server: TokenServer, tap, tmp_path: Path
):
    api = ProtectedApi(httpserver, token_server)
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"refresh_token": CANARY_REFRESH_TOKEN}))
    store.chmod(0o644)

    run = tap(_config(api, token_server, store))

    assert run.returncode != 0
    assert (f"streams[0].auth.refresh_token_store: {store} can be read by group or others "
            f"(mode 644)") in run.stderr
    assert token_server.requests == [] and api.seen == []


def test_a_store_applies_only_to_the_refresh_token_grant(
    httpserver: HTTPServer, token_server: TokenServer, tap, tmp_path: Path
):
    api = ProtectedApi(httpserver, token_server)

    run = tap({"streams": [api.stream(auth=token_server.auth(
        refresh_token_store=str(tmp_path / "s.json")))]})

    assert run.returncode != 0
    assert ("streams[0].auth.refresh_token_store: applies only with grant_type "
            "'refresh_token'") in run.stderr
    assert token_server.requests == []
