"""Parent→child streams against a local API of repositories, their issues and comments."""

from __future__ import annotations

import json
import re

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import run_plugin
from tests.tap.conftest import stream
from tests.tap.repos_api import ISSUES, REPOS, FakeApi


@pytest.fixture
def api(httpserver: HTTPServer) -> FakeApi:
    fake = FakeApi()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    return fake


PAGES = {"type": "page", "page_size": 2}
REPO_FIELDS = [{"name": "id", "type": "integer", "nullable": False},
               {"name": "name", "type": "string"}, {"name": "owner", "type": "object"},
               {"name": "stars", "type": "long"}]
ISSUE_URL = "/repos/{parent.owner.login}/{parent.name}/issues"


def repos(server: HTTPServer, **settings: object) -> dict:
    return stream("repos", server.url_for("/orgs/acme/repos"), pagination=PAGES,
                  primary_keys=["id"], **settings)


def issues(server: HTTPServer, **settings: object) -> dict:
    return stream("issues", server.url_for(ISSUE_URL), parent="repos", pagination=PAGES,
                  include_from_parent=["id", "owner.login"], **settings)


def expected_issues() -> list[dict]:
    return [{**issue, "_repos_id": repo["id"], "_repos_owner_login": repo["owner"]["login"]}
            for repo in REPOS for issue in ISSUES[(repo["owner"]["login"], repo["name"])]]


def schema_of(run, name: str) -> dict:
    [message] = [m for m in run.of_type("SCHEMA") if m["stream"] == name]
    return message["schema"]["properties"]


def test_declared_child_reads_every_parents_issues_with_parent_fields(api, httpserver, tap):
    child_fields = [{"name": "number", "type": "integer"}, {"name": "title", "type": "string"},
                    {"name": "updated_at", "type": "timestamp"},
                    {"name": "_repos_owner_login", "type": "string"}]
    run = tap({"streams": [repos(httpserver, schema=REPO_FIELDS),
                           issues(httpserver, schema=child_fields)]})
    assert run.returncode == 0, run.stderr
    assert run.records("repos") == REPOS
    assert run.records("issues") == expected_issues()
    properties = schema_of(run, "issues")  # one SCHEMA for the child, not one per parent
    assert properties["_repos_id"] == {"type": ["integer"]}  # as the parent declares it
    assert properties["_repos_owner_login"] == {"type": ["string", "null"]}
    # Children are read as parent records arrive, each with its own pages (web has 3 issues:
    # pages 1 and 2 of size 2); a '/' and a space in a name stay in one path segment.
    assert [(path, args["page"]) for path, args in api.requests] == [
        ("/orgs/acme/repos", "1"),
        ("/repos/acme/web/issues", "1"), ("/repos/acme/web/issues", "2"),
        ("/repos/acme/api%20docs%2Fv2/issues", "1"),
        ("/orgs/acme/repos", "2"),
        ("/repos/acme-labs/cli/issues", "1")]


def test_inferred_child_infers_parent_fields_and_parent_is_read_once(api, httpserver, tap):
    run = tap({"streams": [repos(httpserver), issues(httpserver)]})
    assert run.returncode == 0, run.stderr
    assert run.records("issues") == expected_issues()
    properties = schema_of(run, "issues")
    assert properties["_repos_id"]["type"] == ["integer", "null"]
    assert properties["_repos_owner_login"]["type"] == ["string", "null"]
    assert properties["updated_at"]["format"] == "date-time"
    # The pages read ahead to infer both schemas are not requested again.
    assert [path for path, _ in api.requests].count("/orgs/acme/repos") == 2
    assert len(api.paths()) == 4


@pytest.mark.parametrize("declared", [False, True])
def test_three_levels_grandchild_uses_fields_its_parent_included(api, httpserver, tap,
                                                                 declared):
    comments = stream(
        "comments", httpserver.url_for(
            "/repos/{parent._repos_owner_login}/{parent._repos_name}/issues/{parent.number}"
            "/comments"),
        parent="issues", include_from_parent=["number", "_repos_name"])
    child = issues(httpserver)
    child["include_from_parent"] = ["owner.login", "name"]
    parent = repos(httpserver)
    if declared:  # types pass down: repos.name → issues._repos_name → comments._issues__repos_name
        parent["schema"] = REPO_FIELDS
        child["schema"] = [{"name": "number", "type": "long"},
                           {"name": "_repos_owner_login", "type": "string"}]
        comments["schema"] = [{"name": "id", "type": "integer"}, {"name": "body", "type": "string"}]
    run = tap({"streams": [comments, child, parent]})
    assert run.returncode == 0, run.stderr
    assert run.records("comments") == [
        {"id": 100, "body": "first", "_issues_number": 1, "_issues__repos_name": "web"},
        {"id": 101, "body": "second", "_issues_number": 1, "_issues__repos_name": "web"},
        {"id": 102, "body": "third", "_issues_number": 3, "_issues__repos_name": "web"},
        {"id": 200, "body": "docs", "_issues_number": 7,
         "_issues__repos_name": "api docs/v2"}]
    properties = schema_of(run, "comments")
    assert properties["_issues_number"]["type"] == ["integer", "null"]
    assert properties["_issues__repos_name"]["type"] == ["string", "null"]
    assert len(run.records("issues")) == 4
    assert "/repos/acme/api%20docs%2Fv2/issues/7/comments" in [p for p, _ in api.requests]


def test_deselected_parent_is_read_for_its_children_but_not_emitted(api, httpserver, tap,
                                                                  tmp_path):
    config = {"streams": [repos(httpserver, schema=REPO_FIELDS), issues(httpserver, schema=[
        {"name": "number", "type": "integer"}, {"name": "title", "type": "string"},
        {"name": "updated_at", "type": "timestamp"},
        {"name": "_repos_owner_login", "type": "string"}])]}
    discovered = run_plugin("tap-rest-api", config, tmp_path, "--discover")
    assert discovered.returncode == 0, discovered.stderr
    entries = json.loads(discovered.stdout)["streams"]
    for entry in entries:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] == "issues"
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": entries}))
    run = tap(config, "--catalog", str(catalog_path))
    assert run.returncode == 0, run.stderr
    assert {m["stream"] for m in run.messages if "stream" in m} == {"issues"}
    assert run.records("issues") == expected_issues()
    assert ("/orgs/acme/repos", {"page": "2", "limit": "2"}) in api.requests


@pytest.mark.parametrize(("change", "expected"), [
    ({"parent": "repo"},
     "streams[1].parent: 'repo' is not a stream of this config — did you mean 'repos'?"),
    ({"url": "http://127.0.0.1:1/repos/{parent.owner.login}/{parent.title}/issues"},
     "streams[1].url: {parent.title}: 'repos' declares no field 'title'"),
    ({"include_from_parent": ["id", "stars.count"]},
     "streams[1].include_from_parent[1]: 'stars.count': 'repos' declares 'stars' as long, "
     "which has no field 'count'"),
    ({"params": {"q": "{parent.}"}},
     "streams[1].params.q: {parent.} is not a placeholder: expected {parent.<dot path>}"),
    ({"url": "http://{parent.name}.example.com/issues"},
     "streams[1].url: {parent.<path>} may fill the path and query of url, not its scheme, "
     "host or port"),
    ({"url": "http://127.0.0.1:1/issues"},
     "streams[1].parent: no {parent.<field>} placeholder in url, params, headers or body"),
])
def test_link_mistakes_fail_before_any_request(httpserver, tap, change, expected):
    httpserver.expect_request(re.compile(".*")).respond_with_json([])
    run = tap({"streams": [repos(httpserver, schema=REPO_FIELDS),
                           {**issues(httpserver), **change}]})
    assert run.returncode != 0
    assert expected in run.stderr
    assert httpserver.log == []


def test_cycles_fail_before_any_request(httpserver, tap):
    httpserver.expect_request(re.compile(".*")).respond_with_json([])
    url = httpserver.url_for("/x/{parent.id}")
    run = tap({"streams": [stream("a", url, parent="c"), stream("b", url, parent="a"),
                           stream("c", url, parent="b"), stream("d", url, parent="d")]})
    assert run.returncode != 0
    assert "streams[0].parent: 'a' → 'c' → 'b' → 'a' is a cycle" in run.stderr
    assert "streams[3].parent: 'd' → 'd' is a cycle" in run.stderr
    assert httpserver.log == []


def test_parent_record_without_a_placeholder_field_names_child_placeholder_and_key(
        httpserver, tap):
    fake = FakeApi(repos=[REPOS[0], {"id": 9, "owner": {"login": "acme"}}])
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    child = issues(httpserver, schema=[{"name": "number", "type": "integer"}])
    del child["include_from_parent"]
    run = tap({"streams": [repos(httpserver), child]})
    assert run.returncode != 0
    assert ("stream 'issues': placeholder {parent.name} has no value (missing or null) in the "
            "record id=9 of parent stream 'repos'") in run.stderr
    assert len(run.records("issues")) == 3  # the first parent's children came through


def _incremental_config(server: HTTPServer) -> dict:
    child = issues(server, incremental={"replication_key": "updated_at", "param": "since"})
    return {"streams": [repos(server), child]}


def test_incremental_child_rerun_asks_each_parent_only_for_what_is_new(api, httpserver, tap,
                                                                      tmp_path):
    first = tap(_incremental_config(httpserver))
    assert first.returncode == 0, first.stderr
    assert len(first.records("issues")) == 4
    state = first.of_type("STATE")[-1]["value"]
    partitions = state["bookmarks"]["issues"]["partitions"]
    assert {(p["context"]["_repos_name"], p.get("replication_key_value")) for p in partitions} \
        == {("web", "2025-01-03T00:00:00Z"), ("api docs/v2", "2025-02-01T00:00:00Z"),
            ("cli", None)}
    assert "_repos_name" not in first.records("issues")[0]  # a partition key, not included
    # Each STATE carries every parent's bookmark, so it is not written once per parent.
    assert len(first.of_type("STATE")) < len(REPOS)

    api.issues[("acme", "web")].append(
        {"number": 4, "title": "web 4", "updated_at": "2025-01-04T00:00:00Z"})
    api.requests.clear()
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(state))
    second = tap(_incremental_config(httpserver), "--state", str(state_path))
    assert second.returncode == 0, second.stderr
    asked = {path: args.get("since") for path, args in api.paths() if args["page"] == "1"}
    assert asked == {"/repos/acme/web/issues": "2025-01-03T00:00:00Z",
                     "/repos/acme/api%20docs%2Fv2/issues": "2025-02-01T00:00:00Z",
                     "/repos/acme-labs/cli/issues": None}
    assert [r["number"] for r in second.records("issues")] == [3, 4, 7]  # since is inclusive
    web = next(p for p in second.of_type("STATE")[-1]["value"]["bookmarks"]["issues"]
               ["partitions"] if p["context"]["_repos_name"] == "web")
    assert web["replication_key_value"] == "2025-01-04T00:00:00Z"


def test_placeholders_fill_params_headers_and_body(httpserver, tap):
    seen = []

    def search(request: Request) -> Response:
        seen.append((request.args.get("repo"), request.headers.get("X-Repo"), request.json))
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/orgs/acme/repos").respond_with_json(REPOS[:2])
    httpserver.expect_request("/search", method="POST").respond_with_handler(search)
    child = stream("search", httpserver.url_for("/search"), parent="repos", method="POST",
                   params={"repo": "{parent.owner.login}/{parent.name}"},
                   headers={"X-Repo": "{parent.id}"},
                   body={"repo_id": "{parent.id}", "filter": {"text": "in {parent.name}"}},
                   schema=[{"name": "id", "type": "integer"}])
    run = tap({"streams": [stream("repos", httpserver.url_for("/orgs/acme/repos")), child]})
    assert run.returncode == 0, run.stderr
    assert seen == [("acme/web", "1", {"repo_id": 1, "filter": {"text": "in web"}}),
                    ("acme/api docs/v2", "2",
                     {"repo_id": 2, "filter": {"text": "in api docs/v2"}})]


def _kinds(run, name: str) -> list[str]:
    return [m["type"] for m in run.messages if m.get("stream") == name]


def test_children_open_once_and_complete_once_after_the_last_parents_children(
        api, httpserver, tap):
    comments = stream("comments", httpserver.url_for(
        "/repos/{parent._repos_owner_login}/{parent._repos_name}/issues/{parent.number}"
        "/comments"), parent="issues")
    child = issues(httpserver)
    child["include_from_parent"] = ["owner.login", "name"]
    run = tap({"streams": [repos(httpserver), child, comments]})
    assert run.returncode == 0, run.stderr
    assert _kinds(run, "issues") == ["SCHEMA", "ACTIVATE_VERSION", *["RECORD"] * 4,
                                     "ACTIVATE_VERSION"]
    assert _kinds(run, "comments") == ["SCHEMA", "ACTIVATE_VERSION", *["RECORD"] * 4,
                                       "ACTIVATE_VERSION"]
    streams = [(m["type"], m.get("stream")) for m in run.messages if m["type"] != "STATE"]
    last_record = max(i for i, (kind, _) in enumerate(streams) if kind == "RECORD")
    assert sorted(streams[last_record + 1:]) == [("ACTIVATE_VERSION", name) for name in
                                                 ("comments", "issues", "repos")]
    versions = {m["version"] for m in run.messages if m["type"] in ("RECORD",
                                                                    "ACTIVATE_VERSION")}
    assert len(versions) == 1


def test_a_child_of_a_parent_without_records_still_completes_empty(httpserver, tap):
    httpserver.expect_request("/orgs/acme/repos").respond_with_json([])
    child = issues(httpserver, schema=[{"name": "number", "type": "integer"},
                                       {"name": "_repos_owner_login", "type": "string"}])
    run = tap({"streams": [repos(httpserver, schema=REPO_FIELDS), child]})
    assert run.returncode == 0, run.stderr
    assert _kinds(run, "issues") == ["SCHEMA", "ACTIVATE_VERSION", "ACTIVATE_VERSION"]
    assert [request.path for request, _ in httpserver.log] == ["/orgs/acme/repos"]


def test_a_child_of_an_incremental_parent_sends_no_marks(api, httpserver, tap):
    parent = repos(httpserver, incremental={"replication_key": "id", "param": "min_id"})
    run = tap({"streams": [parent, issues(httpserver)]})
    assert run.returncode == 0, run.stderr
    assert len(run.records("issues")) == 4
    assert run.of_type("ACTIVATE_VERSION") == []  # it reads only this run's parents' children


def test_with_batch_files_children_still_go_as_records(api, httpserver, tap, tmp_path):
    config = {"streams": [repos(httpserver), issues(httpserver)],
              "batch_config": {"encoding": {"format": "parquet"},
                               "storage": {"root": tmp_path.as_uri()}, "batch_size": 100}}
    run = tap(config)
    assert run.returncode == 0, run.stderr
    assert [m["stream"] for m in run.of_type("BATCH")] == ["repos"]
    assert run.records("issues") == expected_issues()  # not one small file per parent


def test_a_child_of_a_deleted_parent_is_empty_with_empty_on(httpserver, tap):
    deleted = {"id": 4, "name": "gone", "owner": {"login": "acme"}, "stars": 1}
    api = FakeApi(repos=[*REPOS, deleted])
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    failing = tap({"streams": [repos(httpserver), issues(httpserver)]})
    assert failing.returncode != 0
    assert "404" in failing.stderr
    run = tap({"streams": [repos(httpserver),
                           issues(httpserver, response={"empty_on": [404]})]})
    assert run.returncode == 0, run.stderr
    assert run.records("issues") == expected_issues()
    assert ("/repos/acme/gone/issues", {"page": "1", "limit": "2"}) in api.requests
