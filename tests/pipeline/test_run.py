"""`rest-connector run` over real processes against the sandbox API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from deltalake import DeltaTable

from rest_connector.sandbox import customer
from tests.conftest import BIN, CANARY_TOKEN, assert_no_canary

FAN_OUT = """
MODEL: etl
VERSION: "1.0.0"
CONFIG:
  inputs:
    crm_customers:
      format: rest_api
      url: "{{{{ env.CRM_API_URL }}}}/api/v2/customers"
      params:
        page_size: "{page_size}"
      auth:
        type: bearer
        token: "{{{{ env.CRM_TOKEN }}}}"
      pagination:
        type: next_link
        link_field: next
      response:
        root_key: results
{incremental}
  outputs:
    customers_delta:
      format: delta
      path: "{{{{ env.OUT }}}}/customers"
      mode: {mode}
{extra_output}
"""
INCREMENTAL = """      incremental:
        replication_key: created_at
        param: since
        sorted: true"""
REST_OUTPUT = """    predictions_api:
      format: rest_api
      url: "{{{{ env.CRM_API_URL }}}}/api/v2/predictions"
      auth:
        type: bearer
        token: "{token}"
      batch_size: 100"""


def pipeline_text(page_size: int = 100, incremental: str = "", mode: str = "overwrite",
                  extra_output: str = "", token: str = "{{ env.CRM_TOKEN }}") -> str:
    return FAN_OUT.format(page_size=page_size, incremental=incremental, mode=mode,
                          extra_output=extra_output.format(token=token))


def run(path, sandbox, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRM_API_URL": sandbox.url, "CRM_TOKEN": CANARY_TOKEN,
           "OUT": str(tmp_path)}
    result = subprocess.run([str(BIN / "rest-connector"), "run", str(path), *args],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert_no_canary(result.stdout, result.stderr)
    return result


def test_fan_out_to_delta_and_rest_api_saves_state(write_pipeline, sandbox, tmp_path):
    path = write_pipeline(pipeline_text(extra_output=REST_OUTPUT))
    done = run(path, sandbox, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Run finished" in done.stdout
    assert "stream crm_customers: 1,000 records" in done.stdout
    assert "10 pages" in done.stdout
    assert "[tap-rest-api]" in done.stderr and "429" in done.stderr
    table = DeltaTable(str(tmp_path / "customers")).to_pyarrow_table()
    assert table.num_rows == 1000
    assert sorted(table.column("customer_id").to_pylist()) == [f"C{n:06d}"
                                                               for n in range(1, 1001)]
    batches = sandbox.received("predictions")
    assert [len(batch) for batch in batches] == [100] * 10
    assert batches[0][0]["customer_id"] == "C000001"
    state = json.loads((tmp_path / "pipeline.state.json").read_text())
    assert "crm_customers" in state["bookmarks"]


def test_failing_target_makes_the_run_fail(write_pipeline, sandbox, tmp_path):
    path = write_pipeline(pipeline_text(extra_output=REST_OUTPUT, token="wrong-token"))
    done = run(path, sandbox, tmp_path)
    assert done.returncode == 1
    assert "predictions_api: FAILED" in done.stdout
    assert "state not saved" in done.stdout
    assert not (tmp_path / "pipeline.state.json").exists()


def test_second_run_resumes_from_the_stored_state(write_pipeline, sandbox, tmp_path):
    path = write_pipeline(pipeline_text(page_size=400, incremental=INCREMENTAL, mode="append"))
    first = run(path, sandbox, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1,000 records" in first.stdout
    state = json.loads((tmp_path / "pipeline.state.json").read_text())
    bookmark = state["bookmarks"]["crm_customers"]["replication_key_value"]
    assert bookmark == customer(1000)["created_at"]
    second = run(path, sandbox, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Run finished" in second.stdout and " 0 records" in second.stdout
    assert DeltaTable(str(tmp_path / "customers")).to_pyarrow_table().num_rows == 1000


def test_sigterm_is_forwarded_and_the_run_exits_non_zero(write_pipeline, sandbox, tmp_path):
    path = write_pipeline(pipeline_text(page_size=1))
    env = {**os.environ, "CRM_API_URL": sandbox.url, "CRM_TOKEN": CANARY_TOKEN,
           "OUT": str(tmp_path)}
    runner = subprocess.Popen([str(BIN / "rest-connector"), "run", str(path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    runner.send_signal(signal.SIGTERM)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 143, err
    assert "SIGTERM: stopping 2 processes" in err
    assert "Run interrupted" in out
    assert "tap-rest-api: FAILED" in out


def test_progress_line_and_summary_in_process(write_pipeline, sandbox, tmp_path):
    import io

    from rest_connector.pipeline.translate import translate
    from rest_connector.runner import run_pipeline, summary

    env = {"CRM_API_URL": sandbox.url, "CRM_TOKEN": CANARY_TOKEN, "OUT": str(tmp_path)}
    pipeline = translate(write_pipeline(pipeline_text(page_size=250)), env=env)
    output = io.StringIO()
    report = run_pipeline(pipeline, tmp_path / "state.json", output=output, progress=True)
    assert report.exit_code == 0, output.getvalue()
    assert report.records == {"crm_customers": 1000}
    assert report.pages == 4
    assert "\r\033[K  " in output.getvalue() and "records/s" in output.getvalue()
    assert_no_canary(output.getvalue(), summary(report))
    assert "state saved to" in summary(report)


SIDE_BY_SIDE = """
MODEL: etl
VERSION: "1.0.0"
CONFIG:
  inputs:
{inputs}
  outputs:
    lake:
      format: delta
      path: "{out}/{{stream}}"
      mode: overwrite
"""
SIDE_BY_SIDE_INPUT = """    {name}:
      format: rest_api
      url: "{url}"
      pagination: {{type: offset, page_size: 10}}
      response: {{root_key: data}}
      concurrency: 2
"""


def test_inputs_with_concurrency_are_read_side_by_side_end_to_end(tmp_path):
    """Three inputs of `concurrency: 2`: `run` reads them side by side, never more than 2
    requests at the API at once, and every table gets all its rows."""
    from tests.tap.pages_api import PagesApi

    api = PagesApi(total=60, max_delay=0.05)
    with api.serving() as url:
        inputs = "".join(SIDE_BY_SIDE_INPUT.format(name=name, url=url.replace("items", name))
                         for name in ("alpha", "beta", "gamma"))
        pipeline = tmp_path / "side.yml"
        pipeline.write_text(SIDE_BY_SIDE.format(inputs=inputs, out=tmp_path / "out"))
        done = subprocess.run([str(BIN / "rest-connector"), "run", str(pipeline)],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    # Each stream's first page is read at discovery (to infer its schema); the rest are the
    # sync's. Side by side, alpha's sync requests are not one unbroken run.
    alpha = [i for i, (_, path) in enumerate(api.requests) if path.startswith("/alpha")][1:]
    assert len(alpha) >= 6 and alpha[-1] - alpha[0] + 1 > len(alpha)
    assert api.peak_open <= 2  # the run-wide cap (three streams of 2 each would reach 6)
    for name in ("alpha", "beta", "gamma"):
        ids = DeltaTable(str(tmp_path / "out" / name)).to_pyarrow_table()["id"].to_pylist()
        assert sorted(ids) == list(range(60))
        assert f"stream {name}: 60 records" in done.stdout  # the summary adds up
    assert "180 records" in done.stdout
