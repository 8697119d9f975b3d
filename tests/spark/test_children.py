"""Parent→child streams read through ``rest_api``: parents split across partitions."""

from __future__ import annotations

import json
import re

import pytest
from pyspark.errors import PySparkException
from pyspark.sql.functions import spark_partition_id
from pytest_httpserver import HTTPServer

from rest_api_core.arrow.convert import record_batch
from rest_api_core.arrow.schema import stream_layout
from spark_rest_api.errors import task_failure
from spark_rest_api.partitions import ParentSlice, plan
from spark_rest_api.reader import records_of
from spark_rest_api.streams import open_stream
from spark_rest_api.types import singer_schema_of
from tests.conftest import CANARY_TOKEN, assert_no_canary, run_plugin, singer_messages
from tests.tap.repos_api import REPOS, FakeApi

PAGES = {"type": "page", "page_size": 2}
AUTH = {"type": "bearer", "token": CANARY_TOKEN}
REPO_FIELDS = [{"name": "id", "type": "integer", "nullable": False},
               {"name": "name", "type": "string"}, {"name": "owner", "type": "object"},
               {"name": "stars", "type": "long"}]
ISSUE_FIELDS = [{"name": "number", "type": "integer"}, {"name": "title", "type": "string"},
                {"name": "updated_at", "type": "timestamp"},
                {"name": "_repos_owner_login", "type": "string"}]
COMMENTS_PATH = ("/repos/{parent._repos_owner_login}/{parent._repos_name}/issues/"
                 "{parent.number}/comments")


@pytest.fixture
def api(httpserver: HTTPServer) -> FakeApi:
    fake = FakeApi()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    return fake


def repos_and_issues(server: HTTPServer, declared: bool = True) -> dict:
    repos = {"name": "repos", "url": server.url_for("/orgs/acme/repos"), "auth": AUTH,
             "pagination": PAGES, "primary_keys": ["id"]}
    issues = {"name": "issues", "url": server.url_for("/repos/{parent.owner.login}/"
                                                      "{parent.name}/issues"),
              "auth": AUTH, "parent": "repos", "pagination": PAGES,
              "include_from_parent": ["id", "owner.login"]}
    if declared:
        repos["schema"], issues["schema"] = REPO_FIELDS, ISSUE_FIELDS
    return {"streams": [repos, issues]}


def load(spark, settings: dict, stream: str, partitions: int):
    return (spark.read.format("rest_api").option("config", json.dumps(settings))
            .option("stream", stream).option("partitions", str(partitions)).load())


def tap_output(settings: dict, stream: str, tmp_path) -> tuple[dict, list[dict]]:
    """The first SCHEMA and the records of ``stream`` as the tap process writes them."""
    run = run_plugin("tap-rest-api", settings, tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    messages = [m for m in singer_messages(run.stdout) if m.get("stream") == stream]
    schema = next(m["schema"] for m in messages if m["type"] == "SCHEMA")
    return schema, [m["record"] for m in messages if m["type"] == "RECORD"]


def test_child_read_splits_by_parents_and_equals_the_tap(spark, api, httpserver, tmp_path):
    settings = repos_and_issues(httpserver)
    frame = load(spark, settings, "issues", partitions=3)
    rows = frame.withColumn("part", spark_partition_id()).toArrow().to_pylist()
    spark_requests = api.paths()

    schema, records = tap_output(settings, "issues", tmp_path)
    assert singer_schema_of(frame.schema)["properties"] == schema["properties"]
    assert [{k: v for k, v in row.items() if k != "part"} for row in rows] == (
        record_batch(records, stream_layout(schema)).to_pylist())
    assert frame.schema["_repos_id"].dataType.simpleString() == "bigint"  # repos declares it
    # One parent per partition, in parent order: web (3 issues), api docs (1), cli (0).
    assert [(row["_repos_id"], row["part"]) for row in rows] == [(1, 0), (1, 0), (1, 0),
                                                                  (2, 1)]
    # Each parent's children were requested once, with their own pages (web: 2 pages).
    assert sorted((path, args["page"]) for path, args in spark_requests) == [
        ("/repos/acme-labs/cli/issues", "1"),
        ("/repos/acme/api%20docs%2Fv2/issues", "1"),
        ("/repos/acme/web/issues", "1"), ("/repos/acme/web/issues", "2")]


def test_inferred_grandchild_reads_through_its_lineage_as_the_tap(spark, api, httpserver,
                                                                  tmp_path):
    settings = repos_and_issues(httpserver, declared=False)
    settings["streams"][1]["include_from_parent"] = ["owner.login", "name"]
    settings["streams"].append({"name": "comments", "url": httpserver.url_for(COMMENTS_PATH),
                                "auth": AUTH, "parent": "issues",
                                "include_from_parent": ["number", "_repos_name"]})
    frame = load(spark, settings, "comments", partitions=2)
    rows = frame.withColumn("part", spark_partition_id()).toArrow().to_pylist()

    schema, records = tap_output(settings, "comments", tmp_path)
    assert singer_schema_of(frame.schema)["properties"] == schema["properties"]
    assert [{k: v for k, v in row.items() if k != "part"} for row in rows] == records
    # Slices of repos: [web, api docs] and [cli], each issue's comments read below its repo.
    assert [(row["id"], row["part"]) for row in rows] == [(100, 0), (101, 0), (102, 0),
                                                          (200, 0)]


def test_parents_are_read_once_and_sliced_contiguously_with_the_rate_shared(api, httpserver):
    settings = repos_and_issues(httpserver)
    settings["streams"][1]["rate_limit"] = {"requests_per_second": 6}
    partitions = plan(open_stream(settings, "issues"), wanted=2, parallelism=2)
    assert partitions == [
        ParentSlice(0, 3.0, (({"_repos_owner_login": "acme", "_repos_name": "web"},
                              {"_repos_id": 1, "_repos_owner_login": "acme"}),
                             ({"_repos_owner_login": "acme", "_repos_name": "api docs/v2"},
                              {"_repos_id": 2, "_repos_owner_login": "acme"}))),
        ParentSlice(1, 3.0, (({"_repos_owner_login": "acme-labs", "_repos_name": "cli"},
                              {"_repos_id": 3, "_repos_owner_login": "acme-labs"}),))]
    assert [path for path, _ in api.requests] == ["/orgs/acme/repos"] * 2  # its two pages
    assert plan(open_stream(settings, "issues"), wanted=8, parallelism=2)[2].parents[0][1] == {
        "_repos_id": 3, "_repos_owner_login": "acme-labs"}  # at most one slice per parent


def test_a_child_of_a_parent_without_records_reads_one_empty_slice(httpserver):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(FakeApi(repos=[]))
    settings = repos_and_issues(httpserver)
    [partition] = plan(open_stream(settings, "issues"), wanted=3, parallelism=2)
    assert partition == ParentSlice(0, None, ())
    task = open_stream(settings, "issues", alone=True)
    assert list(records_of(task, partition, task.schema)) == []
    assert [request.path for request, _ in httpserver.log] == ["/orgs/acme/repos"]


def test_incremental_intermediate_hands_its_partition_keys_down_as_the_tap(
        api, httpserver, tmp_path):
    settings = repos_and_issues(httpserver, declared=False)
    issues = settings["streams"][1]
    issues["include_from_parent"] = ["owner.login"]  # _repos_name: a state partition key only
    issues["incremental"] = {"replication_key": "updated_at", "param": "since"}
    settings["streams"].append({"name": "comments", "url": httpserver.url_for(COMMENTS_PATH),
                                "auth": AUTH, "parent": "issues",
                                "include_from_parent": ["number"],
                                "schema": [{"name": "id", "type": "integer"},
                                           {"name": "_issues_number", "type": "integer"}]})
    driver = open_stream(settings, "comments")
    schema = driver.schema
    records = []
    for partition in plan(driver, wanted=3, parallelism=3):
        task = open_stream(settings, "comments", schema=schema, alone=True)
        records += records_of(task, partition, schema)
    assert records == tap_output(settings, "comments", tmp_path)[1]
    assert [r["_issues_number"] for r in records] == [1, 1, 3, 7]


def test_parent_record_without_a_placeholder_field_fails_with_the_taps_message(
        spark, spark_log, httpserver):
    fake = FakeApi(repos=[REPOS[0], {"id": 9, "owner": {"login": "acme"}}])
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    mark = spark_log.mark()
    with pytest.raises(PySparkException) as failure:
        load(spark, repos_and_issues(httpserver), "issues", partitions=2).collect()
    message = str(failure.value)
    assert ("stream 'issues': placeholder {parent.name} has no value (missing or null) in the "
            "record id=9 of parent stream 'repos'") in message
    assert task_failure(message).startswith(  # what `run --engine spark` reports
        "planning the partitions of stream 'issues': stream 'issues': placeholder {parent.name}")
    assert fake.paths() == []  # refused while planning, before any child request
    assert_no_canary(message, spark_log.since(mark))
