"""The pipeline YAML knows session, JWT, tls and proxy settings: each mistake is named with
its YAML line by ``rest-connector validate``, and the credentials never show."""

from __future__ import annotations

from tests.conftest import CANARY_PASSWORD, CANARY_USER
from tests.pipeline.test_cli import cli

PIPELINE = """\
CONFIG:
  inputs:
    tickets:
      format: rest_api
      url: https://legacy.example.com/api/tickets
      tls: {ca_bundle: certs/ca.pem}
      proxy: http://proxy.internal:3128
      auth:
        type: session
        login:
          url: https://legacy.example.com/api/login
          body: {username: "{{ env.API_USER }}", password: "{{ env.API_PASSWORD }}"}
          ttl: -1
        send: {header: X-Session}
    reports:
      format: rest_api
      url: https://analyticsdata.example.com/v1/reports
      auth:
        type: oauth2
        grant_type: jwt_bearer
        token_url: https://oauth2.example.com/token
        private_key: "{{ env.API_PASSWORD }}"
        algorithm: HS256
  outputs:
    sink:
      format: rest_api
      url: https://sink.example.com/in
      tls: {verify: maybe}
      auth:
        type: jwt
        lifetime: 7200
"""


def test_validate_names_each_session_jwt_and_tls_mistake_with_its_line(write_pipeline):
    result = cli("validate", str(write_pipeline(PIPELINE)),
                 env={"API_USER": CANARY_USER, "API_PASSWORD": CANARY_PASSWORD})

    assert result.returncode == 1
    lines = [line.split(": ", 1)[1] for line in result.stderr.splitlines()[1:]]
    tickets, reports = "CONFIG.inputs.tickets.auth", "CONFIG.inputs.reports.auth"
    assert lines == [
        f"line 10: {tickets}.login: needs exactly one of token_field (a dot path in the "
        "answer), token_header or cookie: true",
        f"line 13: {tickets}.login.ttl: expected seconds above 0, got -1",
        f"line 18: {reports}.claims.iss: required with grant_type 'jwt_bearer' unless "
        "client_id is given (the assertion's issuer)",
        f"line 23: {reports}.algorithm: 'HS256' is not one of RS256, ES256, PS256 — did you "
        "mean 'RS256'?",
        "line 28: CONFIG.outputs.sink.tls.verify: expected boolean, got string 'maybe'",
        "line 29: CONFIG.outputs.sink.auth.private_key: required for auth type 'jwt' (the PEM "
        "private key that signs the JWT)",
        "line 31: CONFIG.outputs.sink.auth.lifetime: 7200 is greater than the maximum of 3600",
    ]
