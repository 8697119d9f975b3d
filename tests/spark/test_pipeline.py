"""``rest-connector run --engine spark`` as a real process (and once in this process, on the
tests' session), against real Delta tables."""

from __future__ import annotations

import os
import re
import subprocess

from deltalake import DeltaTable
from pytest_httpserver import HTTPServer

from rest_connector.cli import EXAMPLE_PIPELINE
from rest_connector.sandbox import SandboxServer
from tests.conftest import BIN, CANARY_TOKEN, assert_no_canary
from tests.pipeline.test_parent_child import PIPELINE as PARENT_CHILD_PIPELINE
from tests.tap.repos_api import FakeApi


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


def test_spark_engine_reads_children_into_the_singer_engines_table(httpserver: HTTPServer,
                                                                    tmp_path, on_spark):
    api = FakeApi()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PARENT_CHILD_PIPELINE)
    env = {"API": httpserver.url_for("").rstrip("/")}
    done = run(pipeline, tmp_path, {**env, "OUT": str(tmp_path / "singer")})
    assert done.returncode == 0, done.stderr
    code, out = on_spark(pipeline, {**env, "OUT": str(tmp_path / "spark")})  # in this process
    assert code == 0, out
    assert "issues → lake: written" in out
    tables = {engine: DeltaTable(str(tmp_path / engine / "issues")).to_pyarrow_table()
              for engine in ("singer", "spark")}
    assert tables["spark"].schema == tables["singer"].schema
    assert tables["spark"].num_rows == 4
    order = [("_repos_id", "ascending"), ("number", "ascending")]
    assert tables["spark"].sort_by(order).equals(tables["singer"].sort_by(order))
