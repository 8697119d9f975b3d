"""``rest-connector init --url`` against local APIs, one per pagination style: the written
input pages through every record, and the header values given never show up."""

from __future__ import annotations

import json

import pytest
import yaml
from deltalake import DeltaTable
from werkzeug import Request, Response

from tests.conftest import CANARY_KEY, CANARY_TOKEN, assert_no_canary
from tests.init.conftest import connector

RECORDS = [{"id": n, "name": f"item {n}", "created": f"2025-01-0{n}T00:00:00Z",
            "price": 10 if n % 2 else 10.5, "tags": ["x"]} for n in range(1, 6)]
PAGE = 2


def _json(body: object, headers: dict | None = None, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


def _page(start: int) -> tuple[list, int | None]:
    following = start + PAGE
    return RECORDS[start:following], following if following < len(RECORDS) else None


def link_header(request: Request, base: str) -> Response:
    start = int(request.args.get("page", 0))
    rows, following = _page(start)
    headers = {"Link": f'<{base}/v1/items?page={following}>; rel="next"'} if following else {}
    return _json(rows, headers)


def next_link(request: Request, base: str) -> Response:
    rows, following = _page(int(request.args.get("page", 0)))
    return _json({"count": len(RECORDS), "results": rows,
                  "next": f"{base}/v1/items?page={following}" if following else None})


def cursor(request: Request, _base: str) -> Response:
    rows, following = _page(int(request.args.get("cursor") or 0))
    return _json({"data": rows, "has_more": following is not None,
                  "next_cursor": str(following) if following else None})


def starting_after(request: Request, _base: str) -> Response:
    after = request.args.get("starting_after")
    start = next(i + 1 for i, r in enumerate(RECORDS) if str(r["id"]) == after) if after else 0
    rows, following = _page(start)
    return _json({"object": "list", "data": rows, "has_more": following is not None})


def offset(request: Request, _base: str) -> Response:
    start = int(request.args.get("offset", 0))
    size = int(request.args.get("limit", PAGE))
    return _json({"meta": {"total": len(RECORDS)},
                  "items": RECORDS[start:start + size]})


STYLES = {
    "link_header": (link_header, {"type": "link_header"}, None),
    "next_link": (next_link, {"type": "next_link", "link_field": "next"}, "results"),
    "cursor": (cursor, {"type": "cursor", "cursor_field": "next_cursor", "cursor_param": "cursor",
                        "stop_field": "has_more"}, "data"),
    "starting_after": (starting_after, {"type": "cursor", "cursor_from": "last_record",
                                        "cursor_field": "id", "cursor_param": "starting_after",
                                        "stop_field": "has_more"}, "data"),
    "offset": (offset, {"type": "offset", "page_size": PAGE, "total_field": "meta.total"},
               "items"),
}


def _authorized(handler, base):
    def answer(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {CANARY_TOKEN}":
            return _json({"message": "no"}, status=401)
        return handler(request, base)
    return answer


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_pagination_style_is_found_and_reads_every_record(tmp_path, httpserver, style):
    handler, pagination, root_key = STYLES[style]
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/v1/items").respond_with_handler(_authorized(handler, base))
    output = tmp_path / "items.yml"
    result = connector("init", "--url", f"{base}/v1/items", "--header",
                       f"Authorization: Bearer {CANARY_TOKEN}", "--output", output)
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert_no_canary(text)
    items = yaml.safe_load(text)["CONFIG"]["inputs"]["items"]
    assert items["pagination"] == pagination
    assert items.get("response", {}).get("root_key") == root_key
    assert items["auth"] == {"type": "bearer", "token": "{{ env.API_TOKEN }}"}
    assert {f["name"]: f["type"] for f in items["schema"]} == {
        "id": "integer", "name": "string", "created": "timestamp", "price": "double",
        "tags": "array"}
    assert items["primary_keys"] == ["id"]
    assert len(httpserver.log) <= 2 + 1 + len(RECORDS)  # init: two at most; the run: pages
    assert "export API_BASE_URL=...\n  export API_TOKEN=..." in result.stdout
    env = {"API_BASE_URL": base, "API_TOKEN": CANARY_TOKEN}
    run = connector("run", output, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    table = DeltaTable(str(tmp_path / "lake" / "items")).to_pyarrow_table()
    assert sorted(table["id"].to_pylist()) == [r["id"] for r in RECORDS]


def test_no_paging_sign_one_object_is_one_record(tmp_path, httpserver):
    httpserver.expect_request("/v1/weather").respond_with_json({"temp": 11.5, "city": "Lyon"})
    output = tmp_path / "weather.yml"
    result = connector("init", "--url", httpserver.url_for(f"/v1/weather?appid={CANARY_KEY}"),
                       "--header", f"X-Client: {CANARY_TOKEN}", "--output", output)
    assert result.returncode == 0, result.stderr
    weather = yaml.safe_load(output.read_text())["CONFIG"]["inputs"]["weather"]
    assert "pagination" not in weather and "response" not in weather
    assert weather["auth"] == {"type": "api_key", "param": "appid",
                               "key": "{{ env.API_API_KEY }}"}
    assert weather["headers"] == {"X-Client": "{{ env.API_X_CLIENT }}"}
    assert "params" not in weather
    assert "one request" in output.read_text()
    assert_no_canary(output.read_text())
    assert len(httpserver.log) == 1


def test_an_error_answer_is_one_line_without_the_header(tmp_path, httpserver):
    httpserver.expect_request("/v1/items").respond_with_json(
        {"message": f"token {CANARY_TOKEN} is revoked"}, status=403)
    result = connector("init", "--url", httpserver.url_for("/v1/items"), "--header",
                       f"Authorization: Bearer {CANARY_TOKEN}", "--output",
                       tmp_path / "x.yml")
    assert result.returncode == 1
    assert result.stderr.startswith("GET /v1/items: HTTP 403: ")
    assert "***" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.yml").exists()
