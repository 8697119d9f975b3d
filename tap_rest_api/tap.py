"""tap-rest-api: reads any REST endpoint its settings describe and writes Singer messages."""

from __future__ import annotations

import copy
import signal
import sys
from typing import Any

import click
from singer_sdk import Stream
from singer_sdk.exceptions import ConfigValidationError

from rest_api_core.config import SettingsProblem
from rest_api_core.credentials import CredentialSources
from rest_api_core.errors import ConfigError, ConnectorError
from rest_api_core.extras import MissingExtraError, require_extra
from rest_api_core.in_flight import InFlightCap
from rest_api_core.ratelimit import HostLimiters
from rest_api_core.redact import install_log_redaction
from rest_api_core.startup import FreezesImportsMixin
from rest_api_core.strict_config import StrictConfigMixin
from tap_rest_api.interrupt import StopGate, StopRequested
from tap_rest_api.log_filter import install_quiet_repeats, log_failure
from tap_rest_api.output import BufferedMsgSpecWriter
from tap_rest_api.parents import link_problems
from tap_rest_api.report_settings import response_problems
from tap_rest_api.sdk_seam import SeamTap
from tap_rest_api.settings import CONFIG_SCHEMA, StreamSettings, check_unique_names
from tap_rest_api.side_by_side import sync_side_by_side
from tap_rest_api.streams import RestApiStream

install_log_redaction()


class TapRestApi(FreezesImportsMixin, StrictConfigMixin, SeamTap):
    """Singer tap for generic REST APIs."""

    name = "tap-rest-api"
    package_name = "rest-api-connector"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stop_gate = StopGate()
        self.rate_limiters = HostLimiters()  # one limit per host for all streams and threads
        # One token, session or JWT source per distinct auth block (and TLS/proxy).
        self.oauth2_tokens = CredentialSources(self.rate_limiters)
        self._in_flight: InFlightCap | None = None
        super().__init__(*args, **kwargs)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the CLI with per-parent SDK lines at DEBUG; an ordinary failure ends it with
        one line and exit 1 (its traceback at DEBUG), anything else is reported as a bug."""
        quiet = install_quiet_repeats()
        try:
            super().invoke(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ConnectorError as error:
            quiet.log_repeats()
            log_failure(cls.logger, error)
            sys.exit(1)
        except Exception as error:
            log_failure(cls.logger, error)
            raise
        quiet.log_repeats()

    @property
    def in_flight(self) -> InFlightCap:
        """The run's request slots: the top-level ``concurrency`` for every stream and thread
        together (no run-wide cap without it), each stream's own ``concurrency`` for its share."""
        if self._in_flight is None:
            self._in_flight = InFlightCap(self.config.get("concurrency"))
        return self._in_flight

    def more_problems(self, config: dict[str, Any]) -> list[SettingsProblem]:
        """The ``response`` format and ``report`` checks, with the settings schema's."""
        streams = config.get("streams")
        return response_problems(streams) if isinstance(streams, list) else []

    def discover_streams(self) -> list[RestApiStream]:
        """One stream per entry of ``streams``; every settings problem is reported at once."""
        streams: list[RestApiStream] = []
        problems: list[str] = []
        try:
            check_unique_names(self.config)
        except ConfigError as error:
            problems.append(str(error))
        problems += [str(problem) for problem in link_problems(self.config["streams"])]
        # Repeated from ``more_problems``: ``--discover`` builds the streams unchecked.
        misread = response_problems(self.config["streams"])
        problems += [str(problem) for problem in misread]
        unbuildable = {problem.path[1] for problem in misread}
        problems += self._batch_file_problems()
        for index in range(len(self.config["streams"])):
            if index in unbuildable:
                continue
            try:
                streams.append(RestApiStream(self, StreamSettings.from_config(self.config, index)))
            except ConfigError as error:
                problems.append(str(error))
        if problems:
            raise ConfigValidationError("Config validation failed", errors=problems)
        _attach_children(streams)
        return streams

    def _batch_file_problems(self) -> list[str]:
        """Parquet batch files need pyarrow, which the ``delta`` extra brings."""
        encoding = (self.config.get("batch_config") or {}).get("encoding") or {}
        if encoding.get("format") != "parquet":
            return []
        try:
            require_extra("delta", ("pyarrow",), "batch_config.encoding.format: parquet")
        except MissingExtraError as error:
            return [str(error)]
        return []

    def on_stop_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT: stop at the next safe point instead of mid-line (see ``StopGate``)."""
        self.stop_gate.request(signum)

    def sync_all(self) -> None:
        """Sync every stream (root streams side by side with a top-level ``concurrency`` above
        1); after a stop signal, write the STATE of what was written and exit with 128 + the
        signal number."""
        roots = self._roots_side_by_side()
        try:
            if roots:
                self._sync_side_by_side(roots)
            else:
                super().sync_all()
        except StopRequested as stop:
            for signum in (signal.SIGTERM, signal.SIGINT):  # also through interpreter exit
                signal.signal(signum, signal.SIG_IGN)
            self._write_final_state()
            self.logger.warning("Stopped: final STATE written; exiting with %d", stop.exit_code)
            sys.exit(stop.exit_code)
        except Exception as error:
            if roots:  # the others are stopped: the STATE of what they wrote, then the error
                self._write_final_state()
                self.logger.error("Stopped after the first error (%s): final STATE written",
                                  type(error).__name__)
            raise

    def _roots_side_by_side(self) -> list[Stream]:
        """The root streams to sync in threads: none (one after another, as the SDK does) unless
        the top-level ``concurrency`` is above 1 and there are several."""
        if (self.config.get("concurrency") or 1) <= 1:
            return []
        roots = [stream for stream in self.streams.values()
                 if (stream.selected or stream.has_selected_descendents)
                 and stream.parent_stream_type is None]
        return roots if len(roots) > 1 else []

    def _sync_side_by_side(self, roots: list[Stream]) -> None:
        """The SDK's ``sync_all``, with the root streams in worker threads (private SDK hooks:
        its preparation steps, kept as they are)."""
        self.prepare_sync()
        if self.state:
            self.state_writer.write_state(self.state)
        for stream in self.streams.values():
            if not stream.selected and not stream.has_selected_descendents:
                self.logger.info("Skipping deselected stream '%s'.", stream.name)
        sync_side_by_side(roots, self.config["concurrency"], self.stop_gate)
        with self.message_writer.lock:
            self.state_writer.write_state(self.published_state())  # after all streams
        for stream in self.streams.values():
            stream.log_sync_costs()

    def published_state(self) -> dict:
        """The state as far as the output goes (read under the output lock): a stream writing
        batch files shows the bookmark of its last announced file, not of records in a file
        that no BATCH message has announced yet."""
        held = {stream.name: stream.batch_path.announced_bookmark
                for stream in self.streams.values()
                if stream.batch_path.announced_bookmark is not None}
        if not held:
            return self.state
        state = copy.deepcopy(self.state)
        state.setdefault("bookmarks", {}).update(held)
        return state

    def _write_final_state(self) -> None:
        """The STATE of what was written, then no more output (threads still running when a
        stopped run exits can add nothing after it)."""
        with self.message_writer.lock:
            self.state_writer.write_state(self.published_state())
            self.message_writer.close()


def _attach_children(streams: list[RestApiStream]) -> None:
    """Wire each child to its parent, parents first (a declared child's included fields take
    their types from its parent's schema, which may hold fields included from its own)."""
    by_name = {stream.name: stream for stream in streams}

    def depth(stream: RestApiStream) -> int:
        return 0 if stream.link is None else 1 + depth(by_name[stream.link.parent])

    for stream in sorted(streams, key=depth):
        if stream.link is not None:
            _attach(stream, by_name[stream.link.parent])


def _attach(child: RestApiStream, parent: RestApiStream) -> None:
    """Make ``child`` a child of ``parent``: synced once per parent record (the SDK's
    parent/child mechanism, wired here because every stream shares one class). Its declared
    schema gets the included fields, typed as the parent declares them (checked beforehand)."""
    child.parent_stream = parent
    child.parent_stream_type = type(parent)
    parent.child_streams.append(child)
    if child.declared_schema is None:
        return
    properties = child.declared_schema["properties"]
    for path, name in zip(child.link.included, child.link.included_fields, strict=True):
        if name not in properties:
            properties[name] = copy.deepcopy(parent.declared_schema["properties"][path])


if __name__ == "__main__":
    TapRestApi.cli()
