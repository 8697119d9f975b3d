"""Signed JWTs against local servers: RFC 7523 assertions verified by a token endpoint with the
public key (RS256, ES256, PS256; a wrong key fails clearly), a JWT sent as the bearer to an
API that verifies it, keys checked before any request, and no key or JWT in any output."""

from __future__ import annotations

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.auth_keys import EC_KEY, OTHER_RSA_KEY, RSA_KEY, KeyPair
from tests.oauth2_server import ProtectedApi, TokenServer

SERVICE_ACCOUNT = "reader@project.iam.example.com"
SCOPE = "https://www.example.com/auth/analytics.readonly"


def _assertion_auth(token_server: TokenServer, key: KeyPair, **settings: object) -> dict:
    return {"type": "oauth2", "grant_type": "jwt_bearer", "token_url": token_server.url,
            "private_key": key.private_pem, "scopes": SCOPE,
            "claims": {"iss": SERVICE_ACCOUNT, "sub": None}, **settings}


def _no_jwt_in(run, *tokens: str) -> None:
    for token in tokens:
        assert token not in run.stderr
        assert token.rsplit(".", 1)[-1] not in run.stderr  # not even its signature


@pytest.mark.parametrize(("key", "algorithm"),
                         [(RSA_KEY, None), (EC_KEY, "ES256"), (RSA_KEY, "PS256")])
def test_a_service_account_trades_a_signed_assertion_for_a_token(
    httpserver: HTTPServer, token_server: TokenServer, tap, key: KeyPair, algorithm
):
    token_server.public_key = key.public_pem
    api = ProtectedApi(httpserver, token_server, pages=3)
    settings = {"algorithm": algorithm} if algorithm else {}

    run = tap({"streams": [api.stream(auth=_assertion_auth(
        token_server, key, private_key_id="key-1", lifetime=600, **settings))]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2, 3]
    (claims,) = token_server.assertion_claims
    assert claims["iss"] == SERVICE_ACCOUNT
    assert claims["aud"] == token_server.url
    assert "sub" not in claims
    assert claims["exp"] - claims["iat"] == 600
    header = jwt.get_unverified_header(token_server.assertions[0])
    assert header["alg"] == (algorithm or "RS256")
    assert header["kid"] == "key-1"
    assert token_server.requests[0].form["scope"] == SCOPE
    assert "client_id" not in token_server.requests[0].form
    _no_jwt_in(run, *token_server.assertions)


def test_an_assertion_signed_with_the_wrong_key_fails_clearly(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.public_key = RSA_KEY.public_pem
    api = ProtectedApi(httpserver, token_server)

    run = tap({"streams": [api.stream(auth=_assertion_auth(token_server, OTHER_RSA_KEY))]})

    assert run.returncode != 0
    assert (f"OAuth2 token request to {token_server.url} refused: HTTP 400, error "
            f"'invalid_grant': bad assertion: InvalidSignatureError (the assertion was refused: "
            f"check private_key, private_key_id, the claims (iss, sub, aud, scope) and this "
            f"machine's clock)") in run.stderr
    assert api.seen == []
    _no_jwt_in(run, *token_server.assertions)


def test_client_id_is_sent_and_is_the_default_issuer(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    token_server.public_key = RSA_KEY.public_pem
    api = ProtectedApi(httpserver, token_server, pages=1)
    auth = _assertion_auth(token_server, RSA_KEY, client_id="3MVG9-connected-app",
                           client_auth="body", claims={"sub": "user@example.com"})

    run = tap({"streams": [api.stream(auth=auth)]})

    assert run.returncode == 0, run.stderr
    assert token_server.assertion_claims[0]["iss"] == "3MVG9-connected-app"
    assert token_server.requests[0].form["client_id"] == "3MVG9-connected-app"


def test_a_jwt_is_sent_as_the_bearer_and_renewed_before_it_expires(httpserver: HTTPServer, tap):
    seen: list[dict] = []

    def verify(request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, EC_KEY.public_pem, algorithms=["ES256"],
                                audience="appstoreconnect-v1")
        except jwt.PyJWTError:
            return Response('{"errors": [{"status": "401"}]}', status=401)
        seen.append({**claims, "token": token})
        page = int(request.args.get("page", 1))
        more = page < 3
        return Response(f'{{"data": [{{"id": {page}}}], "next": '
                        f'{f"{chr(34)}?page={page + 1}{chr(34)}" if more else "null"}}}',
                        content_type="application/json")

    httpserver.expect_request("/v1/apps").respond_with_handler(verify)
    auth = {"type": "jwt", "private_key": EC_KEY.private_pem, "algorithm": "ES256",
            "private_key_id": "2X9R4HXF34", "lifetime": 1200,
            "claims": {"iss": "57246542-96fe-1a63-e053-0824d011072a",
                       "aud": "appstoreconnect-v1"}}

    run = tap({"streams": [{"name": "apps", "url": httpserver.url_for("/v1/apps"),
                            "pagination": {"type": "next_link"},
                            "response": {"root_key": "data"}, "auth": auth}]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2, 3]
    assert len(seen) == 3
    assert {claims["exp"] - claims["iat"] for claims in seen} == {1200}
    assert len({claims["token"] for claims in seen}) == 1  # one JWT until it is due
    _no_jwt_in(run, *(claims["token"] for claims in seen))


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"type": "jwt", "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"
                                        "-----END PRIVATE KEY-----"},
         "streams[0].auth.private_key: expected an unencrypted PEM private key (-----BEGIN "
         "PRIVATE KEY-----), but it is not readable"),
        ({"type": "jwt", "private_key": RSA_KEY.private_pem, "algorithm": "ES256"},
         "streams[0].auth.private_key: algorithm ES256 needs an EC P-256 key"),
        ({"type": "jwt", "private_key": RSA_KEY.private_pem, "lifetime": 7200},
         "streams[0].auth.lifetime"),
        ({"type": "jwt", "private_key": RSA_KEY.private_pem, "claims": {"exp": 1}},
         "streams[0].auth.claims.exp: set by the connector from lifetime"),
        ({"type": "oauth2", "grant_type": "jwt_bearer", "token_url": "https://t/token",
          "private_key": RSA_KEY.private_pem},
         "streams[0].auth.claims.iss: required with grant_type 'jwt_bearer' unless client_id "
         "is given"),
        ({"type": "oauth2", "grant_type": "client_credentials", "token_url": "https://t/token",
          "client_id": "c", "client_secret": "s", "private_key": RSA_KEY.private_pem},
         "streams[0].auth.private_key: applies only with grant_type 'jwt_bearer'"),
    ],
    ids=["unreadable", "wrong-type", "lifetime", "claims-exp", "no-issuer", "wrong-grant"],
)
def test_jwt_settings_are_checked_before_any_request(httpserver: HTTPServer, tap, auth,
                                                     message):
    run = tap({"streams": [{"name": "s", "url": httpserver.url_for("/s"), "auth": auth}]})

    assert run.returncode != 0
    assert message in run.stderr
    assert httpserver.log == []
