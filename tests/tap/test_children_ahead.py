"""Children of different parents requested concurrently (a child stream with ``concurrency``
above 1), over real HTTP: the output is the same as one request at a time."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tap_rest_api import children_ahead
from tap_rest_api.request_pool import RequestPool
from tap_rest_api.tap import TapRestApi
from tests.tap.conftest import TapRun, stream
from tests.tap.pages_api import PagesApi

PARENTS = 60
CHILDREN = 25


def _config(url: str, *, concurrency: int | None, **child: object) -> dict:
    base = url.rsplit("/", 1)[0]
    top = {"concurrency": concurrency} if concurrency else {}
    return {**top, "streams": [
        stream("parents", f"{base}/parents", response={"root_key": "data"},
               pagination={"type": "offset", "page_size": 50, "total_field": "meta.total"}),
        stream("children", f"{base}/parents/{{parent.id}}/children", parent="parents",
               response={"root_key": "data"}, pagination={"type": "offset", "page_size": 10},
               **child)]}


def _untimed(run: TapRun) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in ("time_extracted", "version")}
            for m in run.messages]


def _child_paths(api: PagesApi) -> list[str]:
    return [path for path in api.paths() if "/children" in path]


def test_children_of_upcoming_parents_are_requested_ahead_in_parent_order(
        tap: Callable[..., TapRun]) -> None:
    runs, apis = [], []
    for concurrency in (4, None):
        api = PagesApi(total=PARENTS, children=CHILDREN, max_delay=0.02)
        with api.serving() as url:
            runs.append(tap(_config(url, concurrency=concurrency)))
        apis.append(api)
    ahead, sequential = runs
    assert ahead.returncode == 0, ahead.stderr
    assert [r["id"] for r in ahead.records("children")] == [
        parent * 1000 + i for parent in range(PARENTS) for i in range(CHILDREN)]
    # The same messages in the same order (parents and children, marks, STATE) as one at a time.
    assert _untimed(ahead) == _untimed(sequential)
    requested = _child_paths(apis[0])
    assert len(set(requested)) == len(requested) == PARENTS * 3  # each child page once
    assert sorted(requested) == sorted(_child_paths(apis[1]))
    assert 1 < apis[0].peak_open <= 4
    assert apis[1].peak_open == 1


def test_an_incremental_child_sends_each_parents_own_bookmark_ahead(
        tap: Callable[..., TapRun], tmp_path: Path) -> None:
    incremental = {"replication_key": "updated", "param": "since", "sorted": True}
    api = PagesApi(total=PARENTS, children=CHILDREN, max_delay=0.01)
    with api.serving() as url:
        first = tap(_config(url, concurrency=4, incremental=incremental))
    assert first.returncode == 0, first.stderr
    state = first.of_type("STATE")[-1]["value"]
    partitions = state["bookmarks"]["children"]["partitions"]
    assert sorted(p["context"]["_parents_id"] for p in partitions) == list(range(PARENTS))
    assert {p["replication_key_value"] for p in partitions} == {CHILDREN - 1}
    # A rerun: each parent's first child request, prepared ahead, carries its own bookmark; a
    # wrong one would not be used and the child would request again (a path without it).
    partitions[7]["replication_key_value"] = 3
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    api = PagesApi(total=PARENTS, children=CHILDREN, max_delay=0.01)
    with api.serving() as url:
        rerun = tap(_config(url, concurrency=4, incremental=incremental), "--state", str(path))
    assert rerun.returncode == 0, rerun.stderr
    firsts = [p for p in _child_paths(api) if "offset=0&" in p]
    sample = "/parents/0/children?offset=0&limit=10"  # to infer the schema, before any state
    assert sorted(firsts) == sorted([sample] + [
        f"/parents/{parent}/children?since={3 if parent == 7 else CHILDREN - 1}"
        "&offset=0&limit=10" for parent in range(PARENTS)])
    assert len(set(_child_paths(api))) == len(_child_paths(api)) == PARENTS * 3 + 1
    assert 1 < api.peak_open <= 4


def test_a_failing_child_request_stops_as_one_request_at_a_time_does(
        tap: Callable[..., TapRun]) -> None:
    runs = []
    for concurrency in (4, None):
        api = PagesApi(total=PARENTS, children=CHILDREN, max_delay=0.01, fail_at=0,
                       fault_path="/parents/37/children")
        with api.serving() as url:
            runs.append(tap(_config(url, concurrency=concurrency,
                                    rate_limit={"max_retries": 0})))
    ahead, sequential = runs
    assert ahead.returncode != 0
    assert ahead.returncode == sequential.returncode
    assert "HTTP 500 Internal Server Error for GET /parents/37/children" in ahead.stderr
    assert _untimed(ahead) == _untimed(sequential)  # the children of parents 0 to 36, no more
    assert ahead.records("children")[-1]["id"] == 36 * 1000 + CHILDREN - 1


def test_a_cut_off_child_answer_ahead_is_retried_by_its_worker(
        tap: Callable[..., TapRun]) -> None:
    api = PagesApi(total=PARENTS, children=CHILDREN, max_delay=0.01, truncated_at=0,
                   fault_path="/parents/9/children")
    with api.serving() as url:
        run = tap(_config(url, concurrency=4))
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records("children")] == [
        parent * 1000 + i for parent in range(PARENTS) for i in range(CHILDREN)]
    first = "/parents/9/children?offset=0&limit=10"
    assert api.paths().count(first) == 2  # cut off, then read again: used once
    assert "could not be read to the end" in run.stderr or "Retrying" in run.stderr


def test_an_intermediate_streams_child_keeps_one_pool_for_the_whole_run(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """root → middle → leaf, the leaf reading ahead: the middle stream syncs once per root
    record, and its child's threads last the whole run instead of one pool per sync."""
    httpserver.expect_request("/roots").respond_with_json([{"id": r} for r in range(1, 6)])
    httpserver.expect_request(re.compile(r"/roots/\d+/middles")).respond_with_handler(
        lambda request: Response(json.dumps([{"id": int(request.path.split("/")[2]) * 10 + m}
                                             for m in range(3)]),
                                 content_type="application/json"))
    httpserver.expect_request(re.compile(r"/middles/\d+/leaves")).respond_with_handler(
        lambda request: Response(json.dumps([{"id": int(request.path.split("/")[2])}]),
                                 content_type="application/json"))
    pools = []

    class CountedPool(RequestPool):
        def __init__(self, size: int, name: str) -> None:
            pools.append(name)
            super().__init__(size, name)

    monkeypatch.setattr(children_ahead, "RequestPool", CountedPool)
    config = {"streams": [
        {"name": "roots", "url": httpserver.url_for("/roots")},
        {"name": "middles", "url": httpserver.url_for("/roots/{parent.id}/middles"),
         "parent": "roots"},
        {"name": "leaves", "url": httpserver.url_for("/middles/{parent.id}/leaves"),
         "parent": "middles", "concurrency": 2},
    ]}
    TapRestApi(config=config, validate_config=True).sync_all()
    leaves = [json.loads(line)["record"]["id"] for line in capfd.readouterr().out.splitlines()
              if '"stream":"leaves"' in line.replace(" ", "") and '"RECORD"' in line]
    assert leaves == [r * 10 + m for r in range(1, 6) for m in range(3)]
    assert pools == ["leaves-ahead"]
    for thread in threading.enumerate():  # and its threads end with the root's sync
        if thread.name.startswith("leaves-ahead"):
            thread.join(timeout=5)
            assert not thread.is_alive(), thread.name
