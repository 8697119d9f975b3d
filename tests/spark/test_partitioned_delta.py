"""Partitioned Delta tables on the Spark engine: target-delta's layout (one file per partition
value and task, ``country=FR/...``), equal to the Singer engine's tables; partitionings the
engine cannot write are refused with the setting named; a failed job leaves no file in any
partition folder."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from rest_connector.sandbox import SandboxServer
from tests.conftest import CANARY_TOKEN
from tests.spark.test_pipeline import run

PIPELINE = """
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
      path: "{{{{ env.OUT }}}}/{mode}"
      mode: {mode}
      partition_by: [country, active]
""" for mode in ("overwrite", "append", "merge"))

ORDER = [("customer_id", "ascending"), ("active", "ascending")]


def _data_files(table: DeltaTable) -> list[dict]:
    """Each add action's path (relative to the table's root) and partition values."""
    actions = pa.table(table.get_add_actions(flatten=True))
    return actions.select(["path", "partition.country", "partition.active"]).to_pylist()


def test_partitioned_outputs_equal_the_singer_engines(tmp_path, on_spark):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(PIPELINE)
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        env = {"API": sandbox.url, "TOKEN": CANARY_TOKEN}
        singer = run(pipeline, tmp_path, {**env, "OUT": str(tmp_path / "singer")})
        assert singer.returncode == 0, singer.stderr
        for _ in range(2):
            code, out = on_spark(pipeline, {**env, "OUT": str(tmp_path / "spark")})
            assert code == 0, out
    for mode in ("overwrite", "append", "merge"):
        expected = DeltaTable(str(tmp_path / "singer" / mode))
        table = DeltaTable(str(tmp_path / "spark" / mode))
        assert table.metadata().partition_columns == ["country", "active"], mode
        assert table.version() == 1, mode  # one commit per run
        rows = table.to_pyarrow_table()
        assert rows.schema == expected.to_pyarrow_table().schema, mode
        wanted = expected.to_pyarrow_table()
        if mode == "append":
            assert rows.num_rows == 2 * wanted.num_rows == 2000
            rows = rows.sort_by(ORDER).take(list(range(0, 2000, 2)))
        assert rows.sort_by(ORDER).equals(wanted.sort_by(ORDER)), mode
        # target-delta's layout: each file in the folder of the values its add action holds
        for action in _data_files(table):
            folder = (f"country={action['partition.country']}/"
                      f"active={str(action['partition.active']).lower()}/")
            assert action["path"].startswith(folder), action


REFUSED = """
CONFIG:
  inputs:
    customers:
      format: rest_api
      url: "{{ env.API }}/api/v2/customers"
      auth: {type: bearer, token: "{{ env.TOKEN }}"}
      pagination: {type: next_link, link_field: next}
      response: {root_key: results}
  outputs:
    lake:
      format: delta
      path: "{{ env.OUT }}"
      mode: overwrite
      partition_by: [PARTITIONS]
"""


def test_partitionings_the_engine_cannot_write_are_refused_naming_the_setting(tmp_path,
                                                                              on_spark):
    pipeline = tmp_path / "pipeline.yml"
    out = tmp_path / "lake"
    with SandboxServer(token=CANARY_TOKEN) as sandbox:
        env = {"API": sandbox.url, "TOKEN": CANARY_TOKEN, "OUT": str(out)}
        pipeline.write_text(REFUSED.replace("PARTITIONS", "score"))
        code, printed = on_spark(pipeline, env)
        assert code == 1
        assert ("customers → lake: FAILED: Delta write: partition_by: the Spark engine "
                "partitions by "
                "string, integer, boolean or date columns (score: double)") in printed
        pipeline.write_text(REFUSED.replace("PARTITIONS", "planet"))
        code, printed = on_spark(pipeline, env)
        assert "partition_by: 'planet' is not a column of the stream" in printed
        assert not Path(out).exists()  # nothing written

        pipeline.write_text(REFUSED.replace("PARTITIONS", "country"))
        code, printed = on_spark(pipeline, env)
        assert code == 0, printed
        pipeline.write_text(REFUSED.replace("PARTITIONS", "active"))
        code, printed = on_spark(pipeline, env)
    assert code == 1
    assert (f"partition_by: the table at {out} is partitioned by ['country'], not "
            "['active']") in printed
    assert DeltaTable(str(out)).version() == 0


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
      path: "{{ env.OUT }}"
      mode: append
      partition_by: [active]
"""


def test_a_failed_partitioned_job_leaves_no_file_in_any_partition_folder(paged_api, tmp_path,
                                                                         on_spark):
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(FAILING)
    out = tmp_path / "items"
    env = {"API": paged_api.url, "TOKEN": CANARY_TOKEN, "OUT": str(out)}
    code, printed = on_spark(pipeline, env)
    assert code == 0, printed
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert {name.split("/")[0] for name in before} == {"active=true", "active=false"}
    # 5,000 items in two partitions: partition 1 (offsets 2500-4900) fails at 4800, after it
    # wrote a batch of rows into files of its own, while partition 0 wrote its files
    paged_api.total, paged_api.fail_offset = 5000, 4800
    code, printed = on_spark(pipeline, env)
    assert code == 1
    assert "items → lake: FAILED: stream 'items', partition 1: HTTP 400" in printed
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == before
    assert DeltaTable(str(out)).version() == 0
