"""Settings errors: named by path, with hints, secrets masked, non-zero exit, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CANARY_TOKEN, run_plugin
from tests.target_rest_api.conftest import SinkServer, singer_input


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"batch_sise": 3}, "batch_sise: unknown setting — did you mean 'batch_size'?"),
        ({"batch_size_rows": 3}, "batch_size_rows: unknown setting — did you mean 'batch_size'?"),
        ({"batch_size": 0}, "batch_size: 0 is less than the minimum of 1"),
        ({"max_in_flight": 0}, "max_in_flight: 0 is less than the minimum of 1"),
        ({"max_in_flight": "8"}, "max_in_flight: expected integer, got string"),
        ({"method": "GET"}, "method: 'GET' is not one of POST, PUT, PATCH"),
        ({"on_failure": "dead_leter"}, "did you mean 'dead_letter'?"),
        ({"on_failure": "dead_letter"}, "dead_letter_path: required setting is missing"),
        ({"auth": {"type": "bearer", "tokn": CANARY_TOKEN}},
         "auth.tokn: unknown setting — did you mean 'token'?"),
        ({"auth": {"type": "api_key", "key": CANARY_TOKEN}},
         "auth: api_key needs exactly one of 'header' or 'param'"),
        ({"rate_limit": {"retry_on": "429"}}, "rate_limit.retry_on: expected array, got string"),
    ],
)
def test_bad_settings_fail_clearly_before_sending(
    sink: SinkServer, tmp_path: Path, settings: dict, expected: str
):
    result = run_plugin("target-rest-api", {"url": sink.url(), **settings}, tmp_path,
                        stdin=singer_input("s", range(3)))

    assert result.returncode != 0
    assert expected in result.stderr.decode()
    assert sink.received == []


def test_sdk_builtin_settings_are_accepted(sink: SinkServer, tmp_path: Path):
    settings = {"url": sink.url(), "validate_records": False, "stream_maps": {},
                "add_record_metadata": False}

    result = run_plugin("target-rest-api", settings, tmp_path, stdin=singer_input("s", [1]))

    assert result.returncode == 0, result.stderr.decode()
    assert sink.ids() == [1]


def test_about_lists_the_settings(tmp_path: Path):
    result = run_plugin("target-rest-api", {"url": "http://127.0.0.1:9/"}, tmp_path,
                        "--about", "--format", "json")

    assert result.returncode == 0
    for name in ("url", "batch_size", "wrap_key", "on_failure", "dead_letter_path",
                 "drain_deadline", "rate_limit", "auth", "max_in_flight"):
        assert f'"{name}"' in result.stdout.decode()
