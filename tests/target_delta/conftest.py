"""Helpers for target-delta tests: Singer lines, running the target in-process, reading tables."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import redirect_stdout
from pathlib import Path

import boto3
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from moto.server import ThreadedMotoServer

from target_delta.target import TargetDelta


def schema_msg(stream: str, properties: dict, keys: Iterable[str] = ("id",)) -> dict:
    return {"type": "SCHEMA", "stream": stream, "key_properties": list(keys),
            "schema": {"type": "object", "properties": properties}}


def record_msg(stream: str, record: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_msg(value: dict) -> dict:
    return {"type": "STATE", "value": value}


def version_msg(stream: str, version: int = 1) -> dict:
    return {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}


def full_table(messages: Iterable[dict], version: int = 1) -> list[dict]:
    """``messages`` as tap-rest-api sends a full-table read: each stream's ACTIVATE_VERSION
    after its first SCHEMA (the start) and again after its last record (the completion)."""
    messages = list(messages)
    last: dict[str, int] = {}
    for index, message in enumerate(messages):
        if message["type"] in ("SCHEMA", "RECORD"):
            last[message["stream"]] = index
    marked: list[dict] = []
    started: set[str] = set()
    for index, message in enumerate(messages):
        marked.append(message)
        stream = message.get("stream")
        if message["type"] == "SCHEMA" and stream not in started:
            started.add(stream)
            marked.append(version_msg(stream, version))
        if last.get(stream) == index:
            marked.append(version_msg(stream, version))
    return marked


def lines(messages: Iterable[dict]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def run_target(config: dict, messages: Iterable[dict],
               target_class: type[TargetDelta] = TargetDelta) -> list[dict]:
    """Run the target in this process over ``messages``; return the STATE values it wrote."""
    target = target_class(config=config)
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(io.StringIO(lines(messages)))
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def read_table(path: str | Path, storage_options: dict | None = None,
               version: int | None = None) -> pa.Table:
    return DeltaTable(str(path), version=version,
                      storage_options=storage_options).to_pyarrow_table()


def rows(path: str | Path, key: str = "id", **kwargs: object) -> list[dict]:
    """The table's rows as dicts, sorted by ``key``."""
    return sorted(read_table(path, **kwargs).to_pylist(), key=lambda r: r[key])


def version(path: str | Path) -> int:
    return DeltaTable(str(path)).version()


def stray_files(path: str | Path) -> list[str]:
    """Parquet files in a local table's directory that its latest version does not name."""
    path = Path(path)
    named = set()
    if (path / "_delta_log").exists():
        named = {Path(uri).name for uri in DeltaTable(str(path)).file_uris()}
    return sorted(f.name for f in path.glob("*.parquet") if f.name not in named)


REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with an empty bucket ``datalake``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                 aws_access_key_id="test", aws_secret_access_key="test"
                 ).create_bucket(Bucket="datalake")
    yield endpoint
    server.stop()
