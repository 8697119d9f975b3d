"""The repository's meltano.yml under the real Meltano: install, run twice, state kept."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pyarrow as pa
import pytest
import requests
import yaml
from deltalake import DeltaTable, write_deltalake

from rest_connector.sandbox import DEFAULT_PORT as SANDBOX_PORT
from rest_connector.sandbox import customer
from tests.conftest import BIN
from tests.pipeline.failing_api import FailingApi, tap_stream
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


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A fresh-clone-like project with its plugins installed by ``meltano install``."""
    project = repository_copy(tmp_path_factory.mktemp("clone"))
    installed = meltano(project, "install")
    assert installed.returncode == 0, installed.stderr[-3000:]
    return project


def test_meltano_run_twice_writes_delta_and_keeps_state(project, sandbox_port):
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


def test_meltano_run_with_a_failing_tap_keeps_the_overwritten_table(project, tmp_path):
    """Tonight's extraction fails on page 3: the table keeps yesterday's version."""
    table = tmp_path / "customers"
    old = [{"id": i, "name": f"old-{i}"} for i in (1, 2, 3)]
    write_deltalake(str(table), pa.Table.from_pylist(
        old, schema=pa.schema([("id", pa.int64()), ("name", pa.string())])))
    meltano_yml = project / "meltano.yml"
    original = meltano_yml.read_text()
    settings = yaml.safe_load(original)
    with FailingApi(fail_from_page=3) as api:
        settings["plugins"]["extractors"][0]["config"] = {"streams": [tap_stream(api.url)]}
        settings["plugins"]["loaders"][1]["config"] = {"path": str(table), "mode": "overwrite"}
        assert settings["plugins"]["loaders"][1]["name"] == "target-delta"
        meltano_yml.write_text(yaml.safe_dump(settings, sort_keys=False))
        try:
            failed = meltano(project, "run", "--no-state-update", "tap-rest-api", "target-delta")
        finally:
            meltano_yml.write_text(original)
    assert api.pages_served == 2
    assert failed.returncode != 0
    assert "NOT committed" in failed.stderr
    assert DeltaTable(str(table)).version() == 0
    assert sorted(DeltaTable(str(table)).to_pyarrow_table().to_pylist(),
                  key=lambda r: r["id"]) == old
