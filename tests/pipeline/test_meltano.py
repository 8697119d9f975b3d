"""The repository's meltano.yml under the real Meltano: install, run twice, state kept."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest
import requests
from deltalake import DeltaTable

from rest_connector.sandbox import DEFAULT_PORT as SANDBOX_PORT
from rest_connector.sandbox import customer
from tests.conftest import BIN
from tests.pipeline.meltano_project import meltano, repository_copy


@pytest.fixture(scope="module")
def sandbox_port():
    """``rest-connector sandbox`` on its default port, which the repository's meltano.yml uses
    (Meltano's project-level ``env`` takes precedence over the caller's environment)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", SANDBOX_PORT)) == 0:
            pytest.fail(f"port {SANDBOX_PORT} is taken: the Meltano test needs the sandbox there")
    server = subprocess.Popen([str(BIN / "rest-connector"), "sandbox"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(f"http://127.0.0.1:{SANDBOX_PORT}/healthz", timeout=2)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.1)
    yield SANDBOX_PORT
    server.terminate()
    server.wait(timeout=10)


def test_meltano_run_twice_writes_delta_and_keeps_state(tmp_path_factory, sandbox_port):
    project = repository_copy(tmp_path_factory.mktemp("clone"))
    installed = meltano(project, "install")
    assert installed.returncode == 0, installed.stderr[-3000:]
    first = meltano(project, "run", "tap-rest-api", "target-delta")
    assert first.returncode == 0, first.stderr[-3000:]
    table_path = project / "output" / "meltano" / "crm_customers"
    table = DeltaTable(str(table_path))
    assert table.to_pyarrow_table().num_rows == 1000
    state = meltano(project, "state", "get", "dev:tap-rest-api-to-target-delta")
    bookmark = json.loads(state.stdout)["singer_state"]["bookmarks"]["crm_customers"]
    assert bookmark["replication_key_value"] == customer(1000)["created_at"]

    second = meltano(project, "run", "tap-rest-api", "target-delta")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 records" in second.stderr
    assert "with bookmark value: " + customer(1000)["created_at"] in second.stderr
    assert DeltaTable(str(table_path)).to_pyarrow_table().num_rows == 1000
