"""A parent→child pipeline run end to end: `rest-connector run` into Delta tables."""

from __future__ import annotations

import os
import re
import subprocess

from deltalake import DeltaTable
from pytest_httpserver import HTTPServer

from tests.conftest import BIN
from tests.tap.repos_api import FakeApi

PIPELINE = """
MODEL: etl
VERSION: "1.0.0"
CONFIG:
  inputs:
    repos:
      format: rest_api
      url: "{{ env.API }}/orgs/acme/repos"
      pagination: {type: page, page_size: 2}
      primary_keys: [id]
    issues:
      format: rest_api
      parent: repos
      url: "{{ env.API }}/repos/{parent.owner.login}/{parent.name}/issues"
      include_from_parent: [id, owner.login]
      pagination: {type: page, page_size: 2}
      primary_keys: [_repos_id, number]
  outputs:
    lake:
      format: delta
      path: "{{ env.OUT }}/{stream}"
      mode: overwrite
"""


def _rows(path) -> list[dict]:
    table = DeltaTable(str(path)).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda r: (r["_repos_id"], r["number"]))


def test_children_land_in_their_own_table_and_an_overwrite_replaces_them(
        httpserver: HTTPServer, write_pipeline, tmp_path):
    api = FakeApi()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    path = write_pipeline(PIPELINE)
    env = {**os.environ, "API": httpserver.url_for("").rstrip("/"), "OUT": str(tmp_path)}

    def run() -> None:
        done = subprocess.run([str(BIN / "rest-connector"), "run", str(path)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr

    run()
    rows = _rows(tmp_path / "issues")
    assert [(r["_repos_id"], r["_repos_owner_login"], r["number"]) for r in rows] == [
        (1, "acme", 1), (1, "acme", 2), (1, "acme", 3), (2, "acme", 7)]
    assert DeltaTable(str(tmp_path / "repos")).to_pyarrow_table().num_rows == 3

    del api.issues[("acme", "web")][1:]  # the next full read has two issues fewer
    run()
    assert [(r["_repos_id"], r["number"]) for r in _rows(tmp_path / "issues")] == [(1, 1),
                                                                                   (2, 7)]
