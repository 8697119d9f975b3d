"""Bad options and settings: clear errors naming the option or field, before any request."""

from __future__ import annotations

import json

import pytest

from rest_api_core.errors import ConfigError
from rest_connector.cli import main
from spark_rest_api.options import positive_int_option, settings_option
from spark_rest_api.streams import open_stream
from tests.conftest import assert_no_canary
from tests.spark.conftest import items_settings

MERGE_PIPELINE = """
CONFIG:
  inputs:
    items:
      format: rest_api
      url: http://127.0.0.1:9/items
  outputs:
    items_delta:
      format: delta
      path: {path}
      mode: {mode}
"""


def test_settings_option_names_the_option_and_the_problem(tmp_path):
    with pytest.raises(ConfigError, match=r"option 'config': not valid JSON \(Expecting"):
        settings_option({"config": '{"streams": [}'})
    with pytest.raises(ConfigError, match="option 'config': cannot read settings file"):
        settings_option({"config": str(tmp_path / "missing.json")})
    path = tmp_path / "tap.json"
    path.write_text(json.dumps({"streams": []}))
    assert settings_option({"config": str(path)}) == {"streams": []}
    with pytest.raises(ConfigError, match="option 'partitions': expected a positive integer"):
        positive_int_option({"partitions": "0"}, "partitions", 2)


def test_bad_tap_settings_fail_before_any_request(paged_api):
    settings = items_settings(paged_api.url)
    with pytest.raises(ConfigError, match=r"option 'stream': 'orders' is not a stream of the "
                                          r"settings \(streams: items\)"):
        open_stream(settings, "orders")
    settings["streams"][0]["pagination"]["type"] = "offest"
    with pytest.raises(ConfigError) as error:
        open_stream(settings, "items")
    assert "streams[0].pagination.type" in str(error.value)
    assert_no_canary(str(error.value))
    assert paged_api.offsets == []


def test_spark_engine_refuses_what_it_cannot_run_before_starting(tmp_path, capsys):
    path = tmp_path / "pipeline.yml"
    path.write_text(MERGE_PIPELINE.format(path=tmp_path / "items", mode="merge"))
    assert main(["run", str(path), "--engine", "spark"]) == 1
    assert "CONFIG.outputs.items_delta.merge_keys: required with mode 'merge'" in (
        capsys.readouterr().err)
    path.write_text(MERGE_PIPELINE.format(path="hdfs://lake/items", mode="overwrite"))
    assert main(["run", str(path), "--engine", "spark"]) == 1
    assert "CONFIG.outputs.items_delta.path: unsupported scheme 'hdfs'" in (
        capsys.readouterr().err)
    assert main(["run", str(path), "--master", "local[2]"]) == 1
    assert "--master: only with --engine spark" in capsys.readouterr().err
