"""``rest-connector run --engine spark`` writing Delta tables on S3 (moto on 127.0.0.1).

Spark runs in its own process (delta-rs' S3 filesystem and moto's server do not share one
process well); the tables are read back here with delta-rs.
"""

from __future__ import annotations

import boto3
from deltalake import DeltaTable

from rest_connector.sandbox import SandboxServer
from tests.conftest import CANARY_KEY, CANARY_TOKEN
from tests.spark.test_pipeline import run
from tests.target_delta.conftest import REGION, s3_endpoint  # noqa: F401 (fixture)

OUTPUTS = """
CONFIG:
  inputs:
    customers:
      format: rest_api
      url: "{{ env.API }}/api/v2/customers"
      auth: {type: bearer, token: "{{ env.TOKEN }}"}
      pagination: {type: next_link, link_field: next}
      response: {root_key: results}
      primary_keys: [customer_id]
  outputs:
""" + "".join(f"""
    {mode}_lake:
      format: delta
      path: "s3://datalake/{{{{ env.PREFIX }}}}/{mode}"
      mode: {mode}
      storage_options:
        AWS_ENDPOINT_URL: "{{{{ env.ENDPOINT }}}}"
        AWS_ALLOW_HTTP: "true"
        AWS_REGION: {REGION}
""" for mode in ("overwrite", "append", "merge"))


def _aws(endpoint: str) -> dict[str, str]:
    """Credentials from the environment, as for target-delta (canaries: never printed)."""
    return {"AWS_ACCESS_KEY_ID": CANARY_KEY, "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN,
            "ENDPOINT": endpoint}


def _options(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": CANARY_KEY, "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN}


def _s3(endpoint: str):
    """A plain S3 client for checking the bucket (delta-rs' own listing does not get along
    with moto's server in this process)."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


def _read(endpoint: str, key: str) -> str:
    return _s3(endpoint).get_object(Bucket="datalake", Key=key)["Body"].read().decode()


def _keys(endpoint: str, prefix: str) -> list[str]:
    listed = _s3(endpoint).list_objects_v2(Bucket="datalake", Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_overwrite_append_and_merge_on_s3_equal_the_singer_engines(s3_endpoint, tmp_path):  # noqa: F811
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(OUTPUTS)
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        env = {"API": sandbox.url, "TOKEN": CANARY_TOKEN, **_aws(s3_endpoint)}
        for engine in ("singer", "spark", "spark"):
            done = run(pipeline, tmp_path, {**env, "PREFIX": engine}, "--engine",
                       engine, *(["--master", "local[2]"] if engine == "spark" else []))
            assert done.returncode == 0, done.stderr
    assert "customers → merge_lake: written" in done.stdout

    def table(engine: str, mode: str) -> DeltaTable:
        return DeltaTable(f"s3://datalake/{engine}/{mode}",
                          storage_options=_options(s3_endpoint))

    order = [("customer_id", "ascending")]
    for mode in ("overwrite", "append", "merge"):
        singer = table("singer", mode).to_pyarrow_table()
        spark = table("spark", mode)
        assert spark.version() == 1, mode  # one commit per run, two runs
        rows = spark.to_pyarrow_table()
        assert rows.schema == singer.schema, mode
        if mode == "append":  # the second run added the same rows again
            assert rows.num_rows == 2 * singer.num_rows == 2000
            rows = rows.sort_by(order).take(list(range(0, 2000, 2)))
        assert rows.sort_by(order).equals(singer.sort_by(order)), mode
    assert '"operation":"MERGE"' in _read(s3_endpoint, f"spark/merge/_delta_log/{1:020d}.json")
    assert _keys(s3_endpoint, "spark/merge/_staging") == []  # staged rows removed


FAILING = """
CONFIG:
  inputs:
    items:
      format: rest_api
      url: "{{ env.API }}"
      auth: {type: bearer, token: "{{ env.TOKEN }}"}
      pagination: {type: offset, page_size: 100, total_field: meta.total}
      response: {root_key: data}
  outputs:
    lake:
      format: delta
      path: s3://datalake/failing/items
      mode: overwrite
      storage_options: {AWS_ENDPOINT_URL: "{{ env.ENDPOINT }}", AWS_ALLOW_HTTP: "true"}
      aws_access_key_id: "{{ env.KEY }}"
      aws_secret_access_key: "{{ env.SECRET }}"
"""


def test_a_failed_job_on_s3_commits_nothing_and_leaves_no_files(s3_endpoint, paged_api,  # noqa: F811
                                                                tmp_path):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(FAILING)
    env = {"API": paged_api.url, "TOKEN": CANARY_TOKEN, "ENDPOINT": s3_endpoint,
           "KEY": CANARY_KEY, "SECRET": CANARY_TOKEN, "AWS_REGION": REGION}
    first = run(pipeline, tmp_path, env, "--engine", "spark", "--master", "local[2]")
    assert first.returncode == 0, first.stderr
    before = _keys(s3_endpoint, "failing/")

    paged_api.fail_offset = 700  # partition 1 (pages 500-900) fails; partition 0 wrote a file
    failed = run(pipeline, tmp_path, env, "--engine", "spark", "--master", "local[2]")
    assert failed.returncode != 0
    assert "items → lake: FAILED: stream 'items', partition 1: HTTP 400" in failed.stdout
    assert _keys(s3_endpoint, "failing/") == before  # no commit, no stray data file
    committed = DeltaTable("s3://datalake/failing/items", storage_options=_options(s3_endpoint))
    assert committed.version() == 0
    assert sorted(committed.to_pyarrow_table().column("id").to_pylist()) == list(range(950))
