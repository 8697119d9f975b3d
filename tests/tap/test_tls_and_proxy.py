"""TLS and proxies against local servers: an HTTPS API on 127.0.0.1 with a private CA that
requires a client certificate (its login endpoint too), and forwarding proxies that count
requests or require credentials; files and URLs checked before any request."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from tests.auth_keys import Certificates, make_certificates
from tests.conftest import CANARY_PASSWORD, CANARY_USER
from tests.forward_proxy import ForwardProxy
from tests.oauth2_server import ProtectedApi, TokenServer
from tests.session_api import SessionApi


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def mtls_api(certificates: Certificates) -> Iterator[SessionApi]:
    """The session API over HTTPS, trusting only client certificates of the private CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    context.load_verify_locations(certificates.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.start()
    yield SessionApi(server, uses=None)
    server.clear()
    server.stop()


def _tls(certificates: Certificates, **settings: object) -> dict:
    return {"ca_bundle": str(certificates.ca), "client_cert": str(certificates.client_cert),
            "client_key": str(certificates.client_key), **settings}


def test_a_client_certificate_and_a_private_ca_reach_the_api_and_its_login(
    mtls_api: SessionApi, certificates: Certificates, tap
):
    run = tap({"tls": _tls(certificates),
               "streams": [mtls_api.stream(auth=mtls_api.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(30))
    assert len(mtls_api.logins) == 1
    assert "NOT verified" not in run.stderr


def test_without_the_client_certificate_the_handshake_fails(
    mtls_api: SessionApi, certificates: Certificates, tap
):
    run = tap({"streams": [mtls_api.stream(
        auth=mtls_api.auth(), tls={"ca_bundle": str(certificates.ca)},
        rate_limit={"max_retries": 0})]})

    assert run.returncode != 0
    assert f"Session login to {mtls_api.login_url} failed: SSLError" in run.stderr
    assert mtls_api.logins == []


def test_without_the_private_ca_the_server_is_not_trusted(
    mtls_api: SessionApi, certificates: Certificates, tap
):
    tls = _tls(certificates)
    del tls["ca_bundle"]

    run = tap({"streams": [mtls_api.stream(tls=tls, rate_limit={"max_retries": 0})]})

    assert run.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in run.stderr


def test_verify_false_works_and_warns_on_every_run(
    mtls_api: SessionApi, certificates: Certificates, tap
):
    tls = _tls(certificates, verify=False)
    del tls["ca_bundle"]

    for _ in range(2):
        run = tap({"tls": tls, "streams": [mtls_api.stream(auth=mtls_api.auth())]})
        assert run.returncode == 0, run.stderr
        assert run.stderr.count("TLS certificates are NOT verified (tls.verify: false)") == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tls": {"ca_bundle": "/nonexistent/ca.pem"}},
         "tls.ca_bundle: no such file: /nonexistent/ca.pem"),
        ({"tls": {"client_key": "KEY"}}, "tls.client_key: no such file: KEY"),
        ({"proxy": f"http://{CANARY_USER}:{CANARY_PASSWORD}@"},
         "proxy: expected a proxy URL, scheme://[user:password@]host:port with scheme http, "
         "https"),
    ],
)
def test_tls_and_proxy_settings_are_checked_before_any_request(
    httpserver: HTTPServer, tap, settings, message
):
    run = tap({"streams": [{"name": "s", "url": httpserver.url_for("/s"), **settings}]})

    assert run.returncode != 0
    assert f"streams[0].{message}" in run.stderr
    assert httpserver.log == []


def test_a_proxy_carries_the_stream_and_its_token_requests(
    httpserver: HTTPServer, token_server: TokenServer, tap
):
    api = ProtectedApi(httpserver, token_server, pages=3)
    proxy = ForwardProxy()

    with proxy.serving() as proxy_url:
        run = tap({"proxy": proxy_url, "streams": [api.stream(auth=token_server.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == [1, 2, 3]
    assert proxy.forwarded == [f"POST {token_server.url}"] + [f"GET {api.url}"] * 3


def test_a_proxy_that_requires_credentials_gets_them_and_they_never_show(
    httpserver: HTTPServer, tap
):
    httpserver.expect_request("/items").respond_with_json({"data": [{"id": 1}]})
    proxy = ForwardProxy(credentials=(CANARY_USER, CANARY_PASSWORD))
    stream = {"name": "items", "url": httpserver.url_for("/items"),
              "response": {"root_key": "data"}, "rate_limit": {"max_retries": 0}}

    with proxy.serving() as proxy_url:
        host = proxy_url.removeprefix("http://")
        allowed = tap({"proxy": f"http://{CANARY_USER}:{quote(CANARY_PASSWORD)}@{host}",
                       "streams": [stream]})
        refused = tap({"proxy": f"http://{CANARY_USER}:wrong-{CANARY_PASSWORD}@{host}",
                       "streams": [stream]})

    assert allowed.returncode == 0, allowed.stderr
    assert allowed.records() == [{"id": 1}]
    assert refused.returncode != 0
    assert "HTTP 407" in refused.stderr
    assert proxy.forwarded == [f"GET {httpserver.url_for('/items')}"]
    assert proxy.refused == 1


def test_the_token_endpoint_may_have_tls_of_its_own(
    httpserver: HTTPServer, certificates: Certificates, tap
):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    context.load_verify_locations(certificates.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        token_server = TokenServer(server)
        api = ProtectedApi(httpserver, token_server, pages=2)
        own = tap({"streams": [api.stream(auth=token_server.auth(tls=_tls(certificates)))]})
        inherited = tap({"streams": [api.stream(auth=token_server.auth(),
                                                tls=_tls(certificates))]})
        none = tap({"streams": [api.stream(auth=token_server.auth(),
                                           rate_limit={"max_retries": 0})]})
    finally:
        server.stop()

    assert token_server.url.startswith("https://127.0.0.1:")
    assert own.returncode == 0, own.stderr
    assert [r["id"] for r in own.records()] == [1, 2]
    assert inherited.returncode == 0, inherited.stderr
    assert none.returncode != 0
    assert f"OAuth2 token request to {token_server.url} failed" in none.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in none.stderr
    assert len(token_server.requests) == 2


def test_an_mtls_api_and_its_login_are_reached_through_an_authenticating_proxy(
    mtls_api: SessionApi, certificates: Certificates, tap
):
    proxy = ForwardProxy(credentials=(CANARY_USER, CANARY_PASSWORD))

    with proxy.serving() as proxy_url:
        host = proxy_url.removeprefix("http://")
        run = tap({"tls": _tls(certificates),
                   "proxy": f"http://{CANARY_USER}:{quote(CANARY_PASSWORD)}@{host}",
                   "streams": [mtls_api.stream(auth=mtls_api.auth())]})

    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records()] == list(range(30))
    tunnel = f"CONNECT 127.0.0.1:{mtls_api.server.port}"
    assert tunnel in proxy.forwarded and set(proxy.forwarded) == {tunnel}
    assert proxy.refused == 0
