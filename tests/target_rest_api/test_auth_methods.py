"""target-rest-api with session login, a JWT as the bearer, a client certificate and a
private CA, and a proxy: the same settings as the tap, against local servers."""

from __future__ import annotations

import ssl
from pathlib import Path

import jwt
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.auth_keys import EC_KEY, make_certificates
from tests.conftest import run_plugin
from tests.forward_proxy import ForwardProxy
from tests.session_api import SessionApi
from tests.target_rest_api.conftest import Received, SinkServer, singer_input


def test_batches_are_posted_with_a_session_renewed_when_it_expires(
    sink: SinkServer, session_api: SessionApi, tmp_path: Path
):
    delivered: list[int] = []

    def answer(got: Received) -> Response:
        if not session_api.use(got.headers.get("Authorization", "").removeprefix("Bearer ")):
            return Response(status=401)
        delivered.extend(record["id"] for record in got.json)
        return Response(status=200)

    sink.default = answer

    result = run_plugin("target-rest-api",
                        {"url": sink.url(), "auth": session_api.auth(), "batch_size": 2},
                        tmp_path, stdin=singer_input("s", range(14), state={"n": 14}))

    assert result.returncode == 0, result.stderr.decode()
    assert delivered == list(range(14))
    assert len(session_api.logins) == 3  # 7 batches, 3 per session
    assert session_api.refused == 2


def test_batches_are_posted_with_a_signed_jwt(sink: SinkServer, tmp_path: Path):
    def verify(got: Received) -> Response:
        token = got.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            jwt.decode(token, EC_KEY.public_pem, algorithms=["ES256"], audience="sink")
        except jwt.PyJWTError:
            return Response(status=401)
        return Response(status=200)

    sink.default = verify
    auth = {"type": "jwt", "private_key": EC_KEY.private_pem, "algorithm": "ES256",
            "claims": {"iss": "connector", "aud": "sink"}}

    result = run_plugin("target-rest-api", {"url": sink.url(), "auth": auth}, tmp_path,
                        stdin=singer_input("s", range(3)))

    assert result.returncode == 0, result.stderr.decode()
    assert len(sink.received) == 1


def test_batches_reach_an_mtls_sink_through_a_proxy_only_with_the_certificate(tmp_path: Path):
    certificates = make_certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    context.load_verify_locations(certificates.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/in/s", method="POST").respond_with_data("", status=200)
    server.start()
    tls = {"ca_bundle": str(certificates.ca), "client_cert": str(certificates.client_cert),
           "client_key": str(certificates.client_key)}
    config = {"url": server.url_for("/in/{stream}"), "tls": tls,
              "rate_limit": {"max_retries": 0}}
    try:
        with_cert = run_plugin("target-rest-api", config, tmp_path,
                               stdin=singer_input("s", range(3)))
        without = run_plugin("target-rest-api", {**config, "tls": {"ca_bundle": tls["ca_bundle"]}},
                             tmp_path, stdin=singer_input("s", range(3)))
    finally:
        server.stop()

    assert with_cert.returncode == 0, with_cert.stderr.decode()
    assert without.returncode != 0
    assert "SSLError" in without.stderr.decode()
    assert len(server.log) == 1


def test_batches_go_through_the_proxy(sink: SinkServer, tmp_path: Path):
    proxy = ForwardProxy()

    with proxy.serving() as proxy_url:
        result = run_plugin("target-rest-api",
                            {"url": sink.url(), "proxy": proxy_url, "batch_size": 2},
                            tmp_path, stdin=singer_input("s", range(4)))

    assert result.returncode == 0, result.stderr.decode()
    assert proxy.forwarded == [f"POST {sink.url('/in/s')}"] * 2
    assert len(sink.received) == 2
