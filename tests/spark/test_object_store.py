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
    items:
      format: rest_api
      url: "{{ env.ITEMS }}"
      auth: {type: bearer, token: "{{ env.TOKEN }}"}
      pagination: {type: offset, page_size: 100, total_field: meta.total}
      response: {root_key: data}
      primary_keys: [id]
  outputs:
""" + "".join(f"""
    {mode}_lake:
      format: delta
      path: "s3://datalake/{{{{ env.PREFIX }}}}/{mode}/{{stream}}"
      mode: {mode}
      storage_options:
        AWS_ENDPOINT_URL: "{{{{ env.ENDPOINT }}}}"
        AWS_ALLOW_HTTP: "true"
        AWS_REGION: {REGION}
""" + ("      partition_by: [active]\n" if mode == "append" else "")
                 for mode in ("overwrite", "append")) + """
    merge_lake:
      format: delta
      path: "s3://datalake/{{ env.PREFIX }}/merge/{stream}"
      mode: merge
      storage_options: {AWS_ENDPOINT_URL: "{{ env.ENDPOINT }}", AWS_ALLOW_HTTP: "true"}
      aws_access_key_id: "{{ env.KEY }}"
      aws_secret_access_key: "{{ env.SECRET }}"
"""
"""Three outputs on S3; merge_lake takes its credentials from its settings, the other two
from the environment; append_lake is partitioned. Items (offset pages with a total) are read
in partitions."""


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


def test_s3_outputs_equal_the_singer_engines_and_a_failed_job_commits_nothing(
        s3_endpoint, paged_api, tmp_path):  # noqa: F811
    """Two Spark runs (one JVM each): the first writes every table once; in the second,
    customers are written again while items fail in partition 1 after partition 0 wrote its
    file, so the items tables keep their first version and no stray file."""
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(OUTPUTS)
    spark = ("--engine", "spark", "--master", "local[2]")
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        env = {"API": sandbox.url, "ITEMS": paged_api.url, "TOKEN": CANARY_TOKEN,
               "KEY": CANARY_KEY, "SECRET": CANARY_TOKEN, **_aws(s3_endpoint)}
        singer = run(pipeline, tmp_path, {**env, "PREFIX": "singer"})
        assert singer.returncode == 0, singer.stderr
        first = run(pipeline, tmp_path, {**env, "PREFIX": "spark"}, *spark)
        assert first.returncode == 0, first.stderr
        assert "customers → merge_lake: written" in first.stdout
        items_before = _keys(s3_endpoint, "spark/")
        paged_api.fail_offset = 700  # partition 1 (pages 500-900) fails; partition 0 wrote
        failed = run(pipeline, tmp_path, {**env, "PREFIX": "spark"}, *spark)
    assert failed.returncode != 0
    for mode in ("overwrite", "append", "merge"):
        assert f"customers → {mode}_lake: written" in failed.stdout
        assert (f"items → {mode}_lake: FAILED: stream 'items', partition 1: HTTP 400"
                in failed.stdout)

    def table(engine: str, mode: str, stream: str) -> DeltaTable:
        return DeltaTable(f"s3://datalake/{engine}/{mode}/{stream}",
                          storage_options=_options(s3_endpoint))

    order = [("customer_id", "ascending")]
    for mode in ("overwrite", "append", "merge"):
        singer = table("singer", mode, "customers").to_pyarrow_table()
        spark = table("spark", mode, "customers")
        assert spark.version() == 1, mode  # one commit per run, two runs
        rows = spark.to_pyarrow_table()
        assert rows.schema == singer.schema, mode
        if mode == "append":  # the second run added the same rows again
            assert rows.num_rows == 2 * singer.num_rows == 2000
            rows = rows.sort_by(order).take(list(range(0, 2000, 2)))
        assert rows.sort_by(order).equals(singer.sort_by(order)), mode

        partitioned = ["active"] if mode == "append" else []
        assert spark.metadata().partition_columns == partitioned, mode
        items = table("spark", mode, "items")
        assert items.metadata().partition_columns == partitioned, mode
        assert items.version() == 0, mode  # the failed job committed nothing
        singer_items = table("singer", mode, "items").to_pyarrow_table().sort_by("id")
        assert items.to_pyarrow_table().sort_by("id").equals(singer_items), mode
        assert singer_items.column("id").to_pylist() == list(range(950))
        assert _keys(s3_endpoint, f"spark/{mode}/items/") == [k for k in items_before
                               if k.startswith(f"spark/{mode}/items/")], mode  # no stray file
    assert '"operation":"MERGE"' in _read(
        s3_endpoint, f"spark/merge/customers/_delta_log/{1:020d}.json")
    assert _keys(s3_endpoint, "spark/merge/customers/_staging") == []  # staged rows removed
