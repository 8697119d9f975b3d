"""Bad settings: named by path, with what was expected, secrets masked, before any request."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import CANARY_TOKEN
from tests.tap.conftest import stream


def _fails_before_any_request(httpserver: HTTPServer, tap, config: dict) -> str:
    httpserver.expect_request("/x").respond_with_json([{"id": 1}])
    run = tap(config)
    assert run.returncode != 0
    assert httpserver.log == []
    assert run.messages == []
    return run.stderr


@pytest.mark.parametrize(
    ("pagination", "expected"),
    [
        ({"type": "offest"}, "streams[0].pagination.type: 'offest' is not one of offset, page, "
                             "cursor, next_link, link_header — did you mean 'offset'?"),
        ({"type": "offset", "page_sise": 10}, "streams[0].pagination.page_sise: unknown setting "
                                              "— did you mean 'page_size'?"),
        ({"type": "offset", "page_size": "ten"}, "streams[0].pagination.page_size: expected "
                                                 "integer, got string 'ten'"),
        ({"type": "offset", "link_field": "next"}, "streams[0].pagination.link_field: does not "
                                                   "apply to pagination type 'offset'"),
        ({"type": "cursor"}, "streams[0].pagination.cursor_field: required for pagination type "
                             "'cursor'"),
        ({"type": "offset", "page_size": 0}, "streams[0].pagination.page_size: expected a "
                                             "positive integer, got 0"),
    ],
)
def test_pagination_errors(httpserver: HTTPServer, tap, pagination, expected):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), pagination=pagination)]})
    assert expected in stderr


def test_unknown_stream_key_with_hint(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), root_key="data")]})
    assert "streams[0].root_key: unknown setting" in stderr


def test_missing_url_and_bad_method(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        {"name": "x", "method": "PUT"}]})
    assert "streams[0].url: required setting is missing" in stderr
    assert "streams[0].method: 'PUT' is not one of GET, POST" in stderr


def test_wrong_type_of_secret_is_masked(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), auth={"type": "bearer", "token": 12345678})]})
    assert "streams[0].auth.token: expected string, got integer '***'" in stderr
    assert "12345678" not in stderr


def test_auth_missing_credential(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), auth={"type": "api_key", "key": CANARY_TOKEN})]})
    assert "streams[0].auth: api_key needs exactly one of 'header' or 'param'" in stderr


def test_auth_type_typo(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), auth={"type": "baerer", "token": CANARY_TOKEN})]})
    assert "streams[0].auth.type: 'baerer' is not one of bearer, api_key, basic, oauth2, " \
           "session, jwt — did you mean 'bearer'?" in stderr


def test_bad_schema_declaration(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), schema=[{"name": "id", "type": "strng"}])]})
    assert "streams[0].schema[0].type" in stderr
    assert "did you mean 'string'?" in stderr


def test_duplicate_stream_names(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x")), stream("x", httpserver.url_for("/x"))]})
    assert "streams[1].name: 'x' is already the name of streams[0]" in stderr


def test_every_problem_is_reported_at_once(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), timeout="soon", methd="GET")]})
    assert "streams[0].timeout: expected number, got string 'soon'" in stderr
    assert "streams[0].methd: unknown setting — did you mean 'method'?" in stderr


def test_replication_key_missing_from_declared_schema(httpserver: HTTPServer, tap):
    stderr = _fails_before_any_request(httpserver, tap, {"streams": [
        stream("x", httpserver.url_for("/x"), schema=[{"name": "id", "type": "long"}],
               incremental={"replication_key": "updated", "param": "since"})]})
    assert "streams[0].incremental.replication_key: 'updated' is not a field" in stderr
