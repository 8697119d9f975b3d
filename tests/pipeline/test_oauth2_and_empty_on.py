"""The pipeline YAML's oauth2 auth and response.empty_on: translated as written, and each
mistake named with its YAML line by ``rest-connector validate``."""

from __future__ import annotations

from pathlib import Path

from rest_connector.pipeline.translate import translate
from tests.conftest import CANARY_CLIENT_SECRET, CANARY_REFRESH_TOKEN
from tests.pipeline.test_cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oauth2_sync.yml"

PIPELINE = """\
CONFIG:
  inputs:
    invoices:
      format: rest_api
      url: https://api.example.com/v1/invoices
      auth:
        type: oauth2
        client_id: connector
        client_secret: "{{ env.CLIENT_SECRET }}"
        client_auth: header
        token: leftover
        extra_params:
          grant_type: password
      response:
        empty_on: [404, 200]
  outputs:
    billing:
      format: rest_api
      url: https://billing.example.com/in
      auth:
        type: oauth2
        token_url: https://login.example.com/token
        client_id: connector
        grant_type: refresh_token
"""


def test_validate_names_each_oauth2_and_empty_on_mistake_with_its_line(write_pipeline):
    result = cli("validate", str(write_pipeline(PIPELINE)),
                 env={"CLIENT_SECRET": CANARY_CLIENT_SECRET})

    assert result.returncode == 1
    lines = result.stderr.splitlines()[1:]
    where = "CONFIG.inputs.invoices"
    assert [line.split(": ", 1)[1] for line in lines] == [
        f"line 6: {where}.auth.token_url: required for auth type 'oauth2' (the token endpoint "
        "URL)",
        f"line 10: {where}.auth.client_auth: 'header' is not one of basic, body",
        f"line 11: {where}.auth.token: does not apply to auth type 'oauth2' (it takes: "
        "algorithm, claims, client_auth, client_id, client_secret, extra_params, grant_type, "
        "lifetime, private_key, private_key_id, refresh_token, refresh_token_store, scopes, "
        "tls, token_url, type)",
        f"line 13: {where}.auth.extra_params.grant_type: set by the connector from the other "
        "oauth2 settings; set it there",
        f"line 15: {where}.response.empty_on[1]: 200 is less than the minimum of 400",
        "line 20: CONFIG.outputs.billing.auth.refresh_token: required with grant_type "
        "'refresh_token' (the refresh token to start from)",
    ]


def test_the_oauth2_example_translates_with_its_secrets_flagged(tmp_path):
    env = {"API_URL": "https://api.example.com", "TOKEN_URL": "https://login.example.com/t",
           "CLIENT_ID": "connector", "CLIENT_SECRET": CANARY_CLIENT_SECRET,
           "REFRESH_TOKEN": CANARY_REFRESH_TOKEN, "OUTPUT_DIR": str(tmp_path)}

    pipeline = translate(EXAMPLE, env=env)

    [stream] = pipeline.tap.settings["streams"]
    assert stream["auth"]["type"] == "oauth2"
    assert stream["response"]["empty_on"] == [404, 410]
    secrets = {tuple(path[-2:]) for path, _ in pipeline.tap.secrets()}
    assert secrets == {("auth", "client_secret")}
    output_secrets = {tuple(path) for target in pipeline.targets for path, _ in target.secrets()}
    assert output_secrets == {("auth", "client_secret"), ("auth", "refresh_token")}
