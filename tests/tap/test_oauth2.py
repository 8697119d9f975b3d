"""OAuth2 against a local token server: renewal ahead of expiry and on 401, refresh-token
rotation, client authentication, refusals, and each secret kept to its own origin."""

from __future__ import annotations

import base64
import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import CANARY_CLIENT_SECRET, CANARY_REFRESH_TOKEN, OAUTH2_CLIENT_ID
from tests.oauth2_server import ProtectedApi, TokenServer


def test_a_run_of_several_seconds_renews_one_second_tokens_before_they_expire(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.lifetime = 1
    api = ProtectedApi(httpserver, token_server, pages=12, delay=0.25)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(1, 13))
    assert api.unauthorized == 0
    assert len(token_server.issued) >= 3  # ~3 s of pages with tokens renewed every 0.9 s
    assert {header for _, header, _ in api.seen} <= {f"Bearer {t}" for t in token_server.issued}
    assert "expires in 1 s (renewed 0.1 s before)" in run.stderr


def test_a_token_revoked_mid_run_is_renewed_once_and_the_request_sent_again(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.lifetime = None  # no expires_in: renewed on 401 only
    revoked = []

    def revoke_at_page_3(page: int) -> None:
        if page == 3 and not revoked:
            revoked.append(page)
            token_server.revoke_all()

    api = ProtectedApi(httpserver, token_server, pages=5, before_page=revoke_at_page_3)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2, 3, 4, 5]
    assert api.unauthorized == 1
    assert len(token_server.requests) == 2
    assert [page for page, _, _ in api.seen] == [1, 2, 3, 3, 4, 5]
    assert "renewed only when the API answers 401" in run.stderr


def test_a_second_401_after_renewal_fails_clearly(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    httpserver.expect_request("/items").respond_with_json({"error": "insufficient_scope"},
                                                          status=401)

    run = tap({"streams": [{"name": "items", "url": httpserver.url_for("/items"),
                            "auth": token_server.auth()}]})

    assert run.returncode != 0
    assert (f"HTTP 401 for GET /items again with an access token just renewed from "
            f"{token_server.url}") in run.stderr
    assert len(httpserver.log) == 2
    assert len(token_server.requests) == 2


def test_refresh_token_grant_uses_each_rotated_refresh_token(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.lifetime = 1
    token_server.rotate = True
    api = ProtectedApi(httpserver, token_server, pages=8, delay=0.25)

    run = tap({"streams": [api.stream(auth=token_server.auth(
        grant_type="refresh_token", refresh_token=CANARY_REFRESH_TOKEN))]})

    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 8
    sent = [request.form["refresh_token"] for request in token_server.requests]
    assert len(sent) >= 2
    assert sent == token_server.refresh_tokens[: len(sent)]  # each the latest one issued
    assert {request.form["grant_type"] for request in token_server.requests} == {"refresh_token"}
    assert run.stderr.count("issued a new refresh token; it is used for the rest of this "
                            "run, and the configured refresh_token may no longer be valid") == 1
    assert api.unauthorized == 0


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_client_credentials_reach_the_token_endpoint_as_configured(
    httpserver: HTTPServer, token_server: TokenServer, tap, client_auth
):
    api = ProtectedApi(httpserver, token_server, pages=1)

    run = tap({"streams": [api.stream(auth=token_server.auth(
        client_auth=client_auth, scopes=["read:items", "read:users"],
        extra_params={"audience": "https://api.example.com"}))]})

    assert run.returncode == 0, run.stderr
    (request,) = token_server.requests
    assert request.form["scope"] == "read:items read:users"
    assert request.form["audience"] == "https://api.example.com"
    assert request.form["grant_type"] == "client_credentials"
    if client_auth == "basic":
        pair = base64.b64encode(f"{OAUTH2_CLIENT_ID}:{CANARY_CLIENT_SECRET}".encode()).decode()
        assert request.authorization == f"Basic {pair}"
        assert "client_secret" not in request.form
    else:
        assert request.authorization is None
        assert request.form["client_id"] == OAUTH2_CLIENT_ID
        assert request.form["client_secret"] == CANARY_CLIENT_SECRET


def test_scopes_as_one_string_are_space_separated(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    api = ProtectedApi(httpserver, token_server, pages=1)

    run = tap({"streams": [api.stream(auth=token_server.auth(scopes="read:items  read:users"))]})

    assert run.returncode == 0, run.stderr
    assert token_server.requests[0].form["scope"] == "read:items read:users"


def test_invalid_client_fails_naming_the_token_url_and_the_error_code(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.refuse_with = (401, {"error": "invalid_client",
                                      "error_description": "Client authentication failed"})
    api = ProtectedApi(httpserver, token_server)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode != 0
    assert (f"OAuth2 token request to {token_server.url} refused: HTTP 401, error "
            "'invalid_client': Client authentication failed") in run.stderr
    assert len(token_server.requests) == 1  # a refusal is not retried
    assert api.seen == []


def test_the_token_endpoint_is_retried_on_503_with_retry_after(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.script.append(Response("busy", status=503, headers={"Retry-After": "0"}))
    api = ProtectedApi(httpserver, token_server, pages=1)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode == 0, run.stderr
    assert len(token_server.requests) == 2
    assert run.records() == [{"id": 1}]


def test_streams_with_the_same_auth_block_share_one_token(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    api = ProtectedApi(httpserver, token_server, pages=1)

    run = tap({
        "auth": token_server.auth(),
        "streams": [api.stream("a"), api.stream("b"),
                    api.stream("c", auth=token_server.auth(scopes="admin"))],
    })

    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 3
    assert sorted(request.form.get("scope", "") for request in token_server.requests) == [
        "", "admin"]


def test_each_secret_goes_only_to_its_own_origin(
    httpserver: HTTPServer, token_server: TokenServer, other_server: HTTPServer, tap
):
    api = ProtectedApi(httpserver, token_server, pages=1)
    httpserver.expect_request("/first").respond_with_json(
        {"data": [{"id": 0}], "next": other_server.url_for("/elsewhere")})
    other_server.expect_request("/elsewhere").respond_with_json({"data": [{"id": 9}]})

    run = tap({"streams": [
        {"name": "first", "url": httpserver.url_for("/first"), "auth": token_server.auth(
            grant_type="refresh_token", refresh_token=CANARY_REFRESH_TOKEN),
         "pagination": {"type": "next_link"}, "response": {"root_key": "data"}},
        api.stream(auth=token_server.auth(grant_type="refresh_token",
                                          refresh_token=CANARY_REFRESH_TOKEN)),
    ]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [0, 9, 1]
    assert not any(request.bearer_seen for request in token_server.requests)
    token = token_server.issued[0]
    for request, _ in httpserver.log:
        assert request.headers["Authorization"] == f"Bearer {token}"
        sent = json.dumps([dict(request.headers), request.query_string.decode(),
                           request.get_data(as_text=True)])
        assert CANARY_CLIENT_SECRET not in sent and CANARY_REFRESH_TOKEN not in sent
    assert "Authorization" not in other_server.log[0][0].headers


def test_a_faulty_oauth2_block_fails_before_any_request(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    auth = token_server.auth(client_auth="form", grant_type="refresh_token")
    del auth["token_url"]

    run = tap({"streams": [{"name": "items", "url": httpserver.url_for("/items"),
                            "auth": auth}]})

    assert run.returncode != 0
    assert "streams[0].auth.client_auth: 'form' is not one of basic, body" in run.stderr
    run = tap({"streams": [{"name": "items", "url": httpserver.url_for("/items"),
                            "auth": {**auth, "client_auth": "body"}}]})
    assert run.returncode != 0
    assert ("streams[0].auth.token_url: required for auth type 'oauth2' (the token endpoint "
            "URL); streams[0].auth.refresh_token: required with grant_type 'refresh_token'"
            ) in run.stderr
    assert token_server.requests == []
    assert httpserver.log == []


@pytest.mark.parametrize("token_type", ["mac", "DPoP"])
def test_a_token_of_another_type_than_bearer_is_refused(
    httpserver: HTTPServer, token_server: TokenServer, tap, token_type: str
):
    token_server.token_type = token_type
    api = ProtectedApi(httpserver, token_server)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode != 0
    assert (f"OAuth2 token response from {token_server.url} has token_type {token_type!r}: "
            "only bearer tokens are supported (RFC 6749 section 7.1)") in run.stderr
    assert api.seen == []


def test_the_bearer_token_type_is_compared_case_insensitively(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.token_type = "BEARER"
    api = ProtectedApi(httpserver, token_server, pages=1)

    run = tap({"streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode == 0, run.stderr
