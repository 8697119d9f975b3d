"""``rest-connector run --engine spark``: each input read through ``rest_api``, each output
written by the ``rest_api`` writer (``format: rest_api``) or by one atomic Delta commit
(``format: delta``), incremental inputs from and to the Singer engine's state file
(``spark_state``)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rest_api_core.errors import ConfigError, ConnectorError
from rest_api_core.redact import SECRETS
from rest_connector.pipeline.translate import Pipeline, PluginSettings
from rest_connector.spark_state import SparkState
from spark_rest_api import DELTA_FORMAT, FORMAT, fixed_window_end, register, task_failure
from target_delta import TablePaths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"
DELTA_MODES = {"overwrite": "overwrite", "append": "append", "append-only": "append",
               "merge": "append"}
"""target-delta's modes → the Spark save mode (a merge adds its rows through one MERGE)."""


@dataclass(frozen=True)
class OutputRun:
    """One input written to one output, and how it went."""

    stream: str
    output: str
    error: str | None = None

    def __str__(self) -> str:
        outcome = f"FAILED: {self.error}" if self.error else "written"
        return f"{self.stream} → {self.output}: {outcome}"


def check_spark_pipeline(pipeline: Pipeline) -> None:
    """What the Spark engine cannot run, refused before Spark starts."""
    if "stream_maps" in pipeline.tap.settings:
        raise ConnectorError("CONFIG.transform.type: --engine spark runs 'noop' only "
                             "(stream maps run in the Singer engine)")
    for target in pipeline.targets:
        where = f"CONFIG.outputs.{target.name}"
        if target.executable != "target-delta":
            continue
        mode = target.settings.get("mode", "append")
        if mode not in DELTA_MODES:
            raise ConnectorError(f"{where}.mode: {mode!r} is not available with --engine spark "
                                 f"(it writes {', '.join(DELTA_MODES)})")
        keyless = [s["name"] for s in pipeline.tap.settings["streams"]
                   if not _merge_keys(target, s)]
        if mode == "merge" and keyless:
            raise ConnectorError(f"{where}.merge_keys: required with mode 'merge' (the "
                                 f"columns that identify a row; {', '.join(keyless)} "
                                 "declares no primary_keys)")
        try:
            TablePaths(target.settings["path"]).for_stream("check")
        except ConfigError as error:
            raise ConnectorError(f"{where}.{error}") from None


@contextmanager
def spark_session(master: str, app_name: str) -> Iterator[SparkSession]:
    """A Spark session whose Python workers run this interpreter, stopped on exit; or the
    session already active in this process (a notebook's, spark-submit's), used as it is
    (its master stays) and left running for its owner."""
    from pyspark.sql import SparkSession

    if (active := SparkSession.getActiveSession()) is not None:
        yield active
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    try:
        yield session
    finally:
        session.stop()


def _merge_keys(target: PluginSettings, stream: dict[str, Any]) -> list[str]:
    """A merge's keys: the output's ``merge_keys``, else the stream's ``primary_keys`` (as
    target-delta takes the stream's key properties)."""
    return list(target.settings.get("merge_keys") or stream.get("primary_keys") or [])


def _write(frame: DataFrame, stream: dict[str, Any], target: PluginSettings,
           table_path: str) -> None:
    if target.executable == "target-delta":
        settings = json.dumps({**target.settings, "merge_keys": _merge_keys(target, stream)})
        mode = DELTA_MODES[target.settings.get("mode", "append")]
        (frame.write.format(DELTA_FORMAT).option("path", table_path).option("config", settings)
         .mode(mode).save())
    else:
        (frame.write.format(FORMAT).option("config", json.dumps(target.settings))
         .option("stream", stream["name"])
         .mode("append").save())


def _table_paths(pipeline: Pipeline, streams: list[str]) -> dict[str, dict[str, str]]:
    """Each Delta output's table per stream, as target-delta places them."""
    found: dict[str, dict[str, str]] = {}
    for target in pipeline.targets:
        if target.executable == "target-delta":
            paths = TablePaths(target.settings["path"])
            for stream in streams:
                paths.for_stream(stream)
            found[target.name] = {stream: paths.for_stream(stream) for stream in streams}
    return found


def _failure(error: Exception) -> str:
    text = str(error)
    return task_failure(text) or SECRETS.redact(text.strip().splitlines()[0] if text else
                                               type(error).__name__)


def _with_stream(settings: dict[str, Any], stream: dict[str, Any]) -> dict[str, Any]:
    """Tap settings with ``stream``'s block replaced (a windowed stream's fixed end)."""
    return {**settings, "streams": [stream if s["name"] == stream["name"] else s
                                    for s in settings["streams"]]}


def run_on_spark(pipeline: Pipeline, state: SparkState,
                 master: str = DEFAULT_MASTER) -> list[OutputRun]:
    """Read every input once (incremental ones from their bookmarks in ``state``) and write
    it to every output; a failed write is reported and the other outputs still run. The
    bookmarks that moved are in ``state`` afterwards (saved by the caller)."""
    check_spark_pipeline(pipeline)
    settings: dict[str, Any] = pipeline.tap.settings
    streams = [stream["name"] for stream in settings["streams"]]
    tables = _table_paths(pipeline, streams)
    runs: list[OutputRun] = []
    with spark_session(master, f"rest-connector {pipeline.source.name}") as session:
        register(session)
        for stream_settings in settings["streams"]:
            stream = stream_settings["name"]
            # The windows end where the bookmark will: fixed here, not in the planning worker.
            stream_settings = fixed_window_end(stream_settings)
            reader = (session.read.format(FORMAT)
                      .option("config", json.dumps(_with_stream(settings, stream_settings)))
                      .option("stream", stream))
            if (known := state.option()) is not None:
                reader = reader.option("state", known)
            try:
                frame = reader.load()
            except Exception as error:  # Spark's and Py4J's errors share no base class
                runs.extend(OutputRun(stream, t.name, _failure(error)) for t in pipeline.targets)
                continue
            bookmark = state.for_stream(stream_settings, frame.columns)
            written = True
            if len(pipeline.targets) > 1:
                frame = frame.persist()  # read the API once for every output
            for target in pipeline.targets:
                table = tables.get(target.name, {}).get(stream)
                try:
                    if bookmark is not None and table is not None:
                        bookmark.before_write(target.name, table, target.settings)
                    _write(frame, stream_settings, target, table or "")
                    if bookmark is not None:
                        bookmark.written(target.name, table, target.settings)
                except Exception as error:
                    runs.append(OutputRun(stream, target.name, _failure(error)))
                    written = False
                    if bookmark is not None:
                        bookmark.failed()
                else:
                    runs.append(OutputRun(stream, target.name))
            if bookmark is not None:
                state.advance(bookmark)
            if written:
                state.stream_read(stream)
            frame.unpersist()
    return runs
