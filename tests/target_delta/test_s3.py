"""The S3 round trip: a local S3-compatible server (moto) on 127.0.0.1, written through delta-rs."""

from __future__ import annotations

import os

from target_delta.storage import storage_options_for
from tests.conftest import (
    CANARY_KEY,
    CANARY_PASSWORD,
    CANARY_TOKEN,
    run_plugin,
    singer_messages,
)
from tests.target_delta.conftest import (
    REGION,
    full_table,
    lines,
    record_msg,
    rows,
    schema_msg,
    state_msg,
)


def _options(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": CANARY_KEY, "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN}


MESSAGES = [
    *full_table([
        schema_msg("customers", {"id": {"type": "integer"}, "name": {"type": "string"},
                                 "since": {"type": "string", "format": "date"}}),
        record_msg("customers", {"id": 1, "name": "Ada", "since": "2020-01-02"}),
        record_msg("customers", {"id": 2, "name": "Bob", "since": None}),
    ]),
    state_msg({"bookmarks": {"customers": 2}}),
]


def test_overwrite_to_s3_with_settings_round_trips(s3_endpoint, tmp_path):
    uri = "s3://datalake/crm/customers/"
    config = {"path": uri, "mode": "overwrite", "storage_options": _options(s3_endpoint)}
    for _ in range(2):
        result = run_plugin("target-delta", config, tmp_path, stdin=lines(MESSAGES))
        assert result.returncode == 0, result.stderr.decode()
        assert singer_messages(result.stdout) == [{"bookmarks": {"customers": 2}}]

    got = rows(uri, storage_options=_options(s3_endpoint))
    assert [(r["id"], r["name"], str(r["since"])) for r in got] == [
        (1, "Ada", "2020-01-02"), (2, "Bob", "None")]
    from deltalake import DeltaTable
    assert DeltaTable(uri, storage_options=_options(s3_endpoint)).version() == 1


def test_s3_credentials_and_endpoint_from_aws_environment(s3_endpoint, tmp_path, monkeypatch):
    for key, value in _options(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    uri = "s3://datalake/env/{stream}"
    result = run_plugin("target-delta", {"path": uri, "mode": "append"}, tmp_path,
                        stdin=lines(MESSAGES))
    assert result.returncode == 0, result.stderr.decode()
    assert [r["id"] for r in rows("s3://datalake/env/customers",
                                  storage_options=_options(s3_endpoint))] == [1, 2]


def test_s3_failure_is_clear_and_masks_credentials(s3_endpoint, tmp_path):
    config = {"path": "s3://no-such-bucket/t", "storage_options": _options(s3_endpoint)}
    env_before = dict(os.environ)
    result = run_plugin("target-delta", config, tmp_path, stdin=lines(MESSAGES))
    assert dict(os.environ) == env_before
    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert "stream 'customers': writing s3://no-such-bucket/t failed" in stderr
    assert result.stdout == b""  # no STATE


def test_s3_credentials_from_the_secret_settings(s3_endpoint, tmp_path):
    endpoint = {k: v for k, v in _options(s3_endpoint).items() if "KEY" not in k}
    config = {"path": "s3://datalake/explicit/{stream}", "mode": "append",
              "storage_options": endpoint, "aws_access_key_id": CANARY_KEY,
              "aws_secret_access_key": CANARY_TOKEN}
    result = run_plugin("target-delta", config, tmp_path, stdin=lines(MESSAGES))
    assert result.returncode == 0, result.stderr.decode()
    assert [r["id"] for r in rows("s3://datalake/explicit/customers",
                                  storage_options=_options(s3_endpoint))] == [1, 2]


def test_credential_settings_win_over_storage_options_and_environment():
    config = {"storage_options": {"aws_secret_access_key": "from-options", "AWS_REGION": "r"},
              "aws_secret_access_key": CANARY_TOKEN, "aws_session_token": CANARY_PASSWORD}
    environ = {"AWS_SECRET_ACCESS_KEY": "from-env", "AWS_ACCESS_KEY_ID": "id-from-env"}
    assert storage_options_for("s3://b/t", config, environ) == {
        "AWS_ACCESS_KEY_ID": "id-from-env", "AWS_REGION": "r",
        "AWS_SECRET_ACCESS_KEY": CANARY_TOKEN, "AWS_SESSION_TOKEN": CANARY_PASSWORD}
    assert storage_options_for("/local/t", config, environ) == config["storage_options"]
