"""``rest-connector run --engine spark`` as a real process, against real Delta tables."""

from __future__ import annotations

import os
import subprocess

from deltalake import DeltaTable

from rest_connector.cli import EXAMPLE_PIPELINE
from rest_connector.sandbox import SandboxServer
from tests.conftest import BIN, CANARY_TOKEN, assert_no_canary


def run(pipeline, tmp_path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "rest-connector"), "run", str(pipeline), "--state",
         str(tmp_path / "state.json"), *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=300, check=False)
    assert_no_canary(result.stdout, result.stderr)
    return result


def test_spark_engine_writes_the_singer_engines_table(tmp_path):
    tables = {}
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        for engine in ("singer", "spark"):
            env = {"CRM_API_URL": sandbox.url, "CRM_TOKEN": CANARY_TOKEN,
                   "OUTPUT_DIR": str(tmp_path / engine)}
            done = run(EXAMPLE_PIPELINE, tmp_path, env, "--engine", engine,
                       *(["--master", "local[2]"] if engine == "spark" else []))
            assert done.returncode == 0, done.stderr
            tables[engine] = DeltaTable(str(tmp_path / engine / "crm" / "customers"))
    assert "crm_customers → customers_delta: written" in done.stdout
    singer, spark = (tables[e].to_pyarrow_table() for e in ("singer", "spark"))
    assert spark.schema == singer.schema
    assert spark.num_rows == 1000
    assert spark.sort_by("customer_id").equals(singer.sort_by("customer_id"))
    assert tables["spark"].version() == 0  # one commit
