"""Incremental runs on Spark: the Singer engine's state file, read and advanced only by what
the Delta commit holds; a rerun asks only for what is new, on either engine.

The Spark runs are ``rest-connector run --engine spark`` in this process, on the tests' Spark
session (the engine uses an active session as it is): a JVM less to start per run. The Singer
runs are real processes."""

from __future__ import annotations

import json
import shutil

from deltalake import DeltaTable

from rest_connector.cli import main
from rest_connector.sandbox import SandboxServer, customer
from tests.conftest import CANARY_TOKEN
from tests.spark.conftest import SPARK
from tests.spark.test_pipeline import run

PIPELINE = """
CONFIG:
  inputs:
    crm_customers:
      format: rest_api
      url: "{{ env.API }}/api/v2/customers"
      auth: {type: bearer, token: "{{ env.TOKEN }}"}
      pagination: {type: next_link, link_field: next}
      response: {root_key: results}
      incremental: {replication_key: created_at, param: since, sorted: true}
  outputs:
    lake:
      format: delta
      path: "{{ env.OUT }}"
      mode: append
"""


def _env(sandbox, tmp_path, table: str, token: str = CANARY_TOKEN) -> dict[str, str]:
    return {"API": sandbox.url, "TOKEN": token, "OUT": str(tmp_path / table)}


def _run(pipeline, tmp_path, sandbox, table: str, state: str) -> str:
    done = run(pipeline, tmp_path, _env(sandbox, tmp_path, table),
               "--state", str(tmp_path / state))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _run_on_spark(on_spark, pipeline, tmp_path, sandbox, table: str, state: str) -> str:
    code, out = on_spark(pipeline, _env(sandbox, tmp_path, table),
                         "--state", str(tmp_path / state))
    assert code == 0, out
    return out


def _state(tmp_path, name: str) -> dict:
    return json.loads((tmp_path / name).read_text())


def _ids(tmp_path, table: str) -> list[str]:
    return sorted(DeltaTable(str(tmp_path / table)).to_pyarrow_table()
                  .column("customer_id").to_pylist())


def _add_customers(sandbox: SandboxServer, numbers: range) -> None:
    with sandbox.state.lock:
        sandbox.state.customers.extend(customer(n) for n in numbers)


def test_consecutive_runs_read_only_new_records_and_share_the_singer_engines_state(
        tmp_path, on_spark):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE)
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        _run(pipeline, tmp_path, sandbox, "singer", "singer.json")
        out = _run_on_spark(on_spark, pipeline, tmp_path, sandbox, "spark", "spark.json")
        assert "state saved to" in out
        assert _state(tmp_path, "spark.json") == _state(tmp_path, "singer.json")
        assert (_state(tmp_path, "spark.json")["bookmarks"]["crm_customers"]
                ["replication_key_value"]) == customer(1000)["created_at"]
        assert _ids(tmp_path, "spark") == [f"C{n:06d}" for n in range(1, 1001)]

        # the second run on Spark continues from the Singer engine's state and table
        _add_customers(sandbox, range(1001, 1011))
        shutil.copy(tmp_path / "singer.json", tmp_path / "switch.json")
        _run_on_spark(on_spark, pipeline, tmp_path, sandbox, "singer", "switch.json")
        assert _ids(tmp_path, "singer") == [f"C{n:06d}" for n in range(1, 1011)]
        assert DeltaTable(str(tmp_path / "singer")).version() == 1  # the 10 new ones, once
        assert (_state(tmp_path, "switch.json")["bookmarks"]["crm_customers"]
                ["replication_key_value"]) == customer(1010)["created_at"]

        # and the Singer engine continues from the Spark run's state
        _add_customers(sandbox, range(1011, 1016))
        _run(pipeline, tmp_path, sandbox, "singer", "switch.json")
        assert _ids(tmp_path, "singer") == [f"C{n:06d}" for n in range(1, 1016)]


def test_a_failed_output_keeps_the_bookmark(tmp_path, on_spark):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE)
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        _run_on_spark(on_spark, pipeline, tmp_path, sandbox, "spark", "spark.json")
        before = (tmp_path / "spark.json").read_text()
        _add_customers(sandbox, range(1001, 1011))
        code, out = on_spark(pipeline, _env(sandbox, tmp_path, "spark", token="wrong-token"),
                             "--state", str(tmp_path / "spark.json"))
    assert code == 1
    assert "crm_customers → lake: FAILED" in out
    assert (tmp_path / "spark.json").read_text() == before


def test_an_unreadable_state_file_is_refused_before_spark_starts(tmp_path, capsys,
                                                                 monkeypatch):

    for name, value in {"API": "http://127.0.0.1:9", "TOKEN": "x", "OUT": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE)
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["run", str(pipeline), "--state", str(tmp_path / "bad.json"), *SPARK]) == 1
    assert f"--state {tmp_path / 'bad.json'}: cannot read the state file" in (
        capsys.readouterr().err)
