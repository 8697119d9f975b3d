"""The rest-connector CLI as a real process: validate, translate, sandbox."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time

import requests
import yaml

from tests.conftest import BIN, CANARY_KEY, CANARY_TOKEN, assert_no_canary
from tests.pipeline.conftest import CRM_INPUT

PIPELINE = CRM_INPUT + """\
  outputs:
    customers_delta:
      format: delta
      path: "{{ env.OUT }}/customers"
    predictions:
      format: rest_api
      url: "{{ env.CRM_API_URL }}/api/v2/predictions"
      auth:
        type: api_key
        header: X-Key
        key: "{{ env.PREFIX }}{{ env.KEY_BODY }}"
"""


def cli(*args: str, env: dict | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(BIN / "rest-connector"), *args], capture_output=True,
                            text=True, timeout=timeout, env={**os.environ, **(env or {})},
                            check=False)
    assert_no_canary(result.stdout, result.stderr)
    return result


def environment(tmp_path) -> dict[str, str]:
    return {"CRM_API_URL": "http://127.0.0.1:9", "CRM_TOKEN": CANARY_TOKEN, "OUT": str(tmp_path),
            "PREFIX": CANARY_KEY[:6], "KEY_BODY": CANARY_KEY[6:]}


def test_validate_refuses_nested_aliases_before_expanding_them(write_pipeline, tmp_path):
    """Eight levels of nine aliases each would expand to 9**8 (43 million) strings."""
    levels = ['        l0: &l0 "lol"']
    levels += [f"        l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = write_pipeline(CRM_INPUT.replace("      params:", "      method: POST\n"
                                            "      body:\n" + "\n".join(levels) + "\n"
                                            "      params:")
                          + "  outputs:\n    out:\n      format: delta\n      path: /tmp/x\n")
    result = cli("validate", str(path), env=environment(tmp_path), timeout=10)
    assert result.returncode == 1
    assert "9 problems" in result.stderr
    assert result.stderr.count("anchors and aliases (&name, *name) are not supported") == 9
    for line in range(10, 19):  # l0 to l8
        assert f"line {line}: anchors and aliases" in result.stderr


def test_validate_ok_and_with_errors(write_pipeline, tmp_path):
    path = write_pipeline(PIPELINE)
    ok = cli("validate", str(path), env=environment(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "OK — inputs: crm_customers; outputs: customers_delta (target-delta)" in ok.stdout
    bad = cli("validate", str(path), "--var", "dt=", env={"CRM_API_URL": "http://h"})
    assert bad.returncode == 1
    assert "line 12: CONFIG.inputs.crm_customers.auth.token: environment variable CRM_TOKEN " \
           "is not set" in bad.stderr
    assert "3 problems" in bad.stderr
    usage = cli("validate", str(path), "--var", "env=1")
    assert usage.returncode == 2
    assert "other than 'env'" in usage.stderr


def test_translate_writes_private_configs_and_a_meltano_fragment_without_secrets(
        write_pipeline, tmp_path):
    out = tmp_path / "out"
    done = cli("translate", str(write_pipeline(PIPELINE)), "--out", str(out), "--var",
               "dt=2025-05-05", env=environment(tmp_path))
    assert done.returncode == 0, done.stderr
    tap = out / "tap-rest-api.json"
    secret_files = [tap, out / "target-rest-api.predictions.json"]
    for path in secret_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(tap.read_text())["streams"][0]["auth"]["token"] == CANARY_TOKEN
    assert json.loads(tap.read_text())["streams"][0]["params"] == {"since": "2025-05-05"}
    delta = json.loads((out / "target-delta.customers_delta.json").read_text())
    assert delta == {"path": f"{tmp_path}/customers"}
    fragment_text = (out / "meltano.yml").read_text()
    assert_no_canary(fragment_text)
    fragment = yaml.safe_load(fragment_text)
    [extractor] = fragment["plugins"]["extractors"]
    assert extractor["config"]["streams"][0]["auth"]["token"] == "$CRM_TOKEN"
    loaders = {loader["name"]: loader for loader in fragment["plugins"]["loaders"]}
    api = loaders["target-rest-api--predictions"]
    assert api["inherit_from"] == "target-rest-api"
    assert api["config"]["auth"]["key"] == "$PREDICTIONS_AUTH_KEY"
    assert "PREDICTIONS_AUTH_KEY" in fragment_text.splitlines()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sandbox_command_serves_until_interrupted():
    port = free_port()
    server = subprocess.Popen([str(BIN / "rest-connector"), "sandbox", "--port", str(port),
                               "--token", "abc"], stdout=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}/api/v2/customers" in server.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/v2/customers",
                                        headers={"Authorization": "Bearer abc"}, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert len(response.json()["results"]) == 100
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
