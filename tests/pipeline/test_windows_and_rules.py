"""The pipeline YAML takes the tap's incremental windows, client-side incremental and
response rules as written; a mistake in them is named with its YAML line."""

from __future__ import annotations

from rest_connector.pipeline.translate import translate
from tests.pipeline.test_cli import cli

PIPELINE = """\
CONFIG:
  inputs:
    charges:
      format: rest_api
      url: https://api.example.com/v1/charges
      response:
        root_key: data
        rules:
          - when: {status: 200, field: error.code, equals: RATE_LIMITED}
            then: retry
            wait: 30
          - when: {status: [404, 410], body_contains: "no such page"}
            then: ignore
      incremental:
        replication_key: created
        start_value: "2024-01-01T00:00:00Z"
        lookback: 2h
        window: {step: 7d, start_param: "created[gte]", end_param: "created[lt]", format: unix}
    feed:
      format: rest_api
      url: https://api.example.com/v1/feed
      incremental: {replication_key: updated_at, filter: client, order: descending}
  outputs:
    out:
      format: delta
      path: /tmp/out
"""


def test_windows_client_filter_and_rules_translate_as_written(write_pipeline):
    pipeline = translate(write_pipeline(PIPELINE), env={})

    charges, feed = pipeline.tap.settings["streams"]
    assert charges["incremental"]["window"] == {
        "step": "7d", "start_param": "created[gte]", "end_param": "created[lt]",
        "format": "unix"}
    assert charges["response"]["rules"][0] == {
        "when": {"status": 200, "field": "error.code", "equals": "RATE_LIMITED"},
        "then": "retry", "wait": 30}
    assert feed["incremental"] == {"replication_key": "updated_at", "filter": "client",
                                   "order": "descending"}


def test_validate_names_a_window_or_rule_mistake_with_its_line(write_pipeline):
    broken = (PIPELINE.replace("format: unix}", "formatt: unix}")
              .replace("then: ignore", "then: skip"))
    result = cli("validate", str(write_pipeline(broken)))

    assert result.returncode == 1
    where = "CONFIG.inputs.charges"
    assert f"line 13: {where}.response.rules[1].then: 'skip' is not one of" in result.stderr
    assert f"line 18: {where}.incremental.window.formatt: unknown setting" in result.stderr
