"""tap-rest-api: reads any REST endpoint its settings describe and writes Singer messages."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from rest_connector.config import StrictConfigMixin
from rest_connector.errors import ConfigError
from rest_connector.oauth2 import TokenSources
from rest_connector.ratelimit import HostLimiters
from rest_connector.redact import install_log_redaction
from rest_connector.startup import FreezesImportsMixin
from tap_rest_api.interrupt import StopGate, StopRequested
from tap_rest_api.output import BufferedMsgSpecWriter
from tap_rest_api.parents import link_problems
from tap_rest_api.settings import CONFIG_SCHEMA, StreamSettings, check_unique_names
from tap_rest_api.streams import RestApiStream

install_log_redaction()


class TapRestApi(FreezesImportsMixin, StrictConfigMixin, Tap):
    """Singer tap for generic REST APIs."""

    name = "tap-rest-api"
    package_name = "rest-api-connector"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stop_gate = StopGate()
        self.rate_limiters = HostLimiters()  # one limit per host for all streams and threads
        self.oauth2_tokens = TokenSources(self.rate_limiters)  # one per distinct OAuth2 block
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RestApiStream]:
        """One stream per entry of ``streams``; every settings problem is reported at once."""
        streams: list[RestApiStream] = []
        problems: list[str] = []
        try:
            check_unique_names(self.config)
        except ConfigError as error:
            problems.append(str(error))
        problems += [str(problem) for problem in link_problems(self.config["streams"])]
        for index in range(len(self.config["streams"])):
            try:
                streams.append(RestApiStream(self, StreamSettings.from_config(self.config, index)))
            except ConfigError as error:
                problems.append(str(error))
        if problems:
            raise ConfigValidationError("Config validation failed", errors=problems)
        _attach_children(streams)
        return streams


    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: stop at the next safe point instead of mid-line (see ``StopGate``)."""
        self.stop_gate.request(signum)

    def sync_all(self) -> None:
        """Sync every stream; after a stop signal, write the STATE of what was written and exit
        with 128 + the signal number."""
        try:
            super().sync_all()
        except StopRequested as stop:
            for signum in (signal.SIGTERM, signal.SIGINT):  # also through interpreter exit
                signal.signal(signum, signal.SIG_IGN)
            self.state_writer.write_state(self.state)
            self.logger.warning("Stopped: final STATE written; exiting with %d", stop.exit_code)
            sys.exit(stop.exit_code)


def _attach_children(streams: list[RestApiStream]) -> None:
    """Wire each child to its parent, parents first (a declared child's included fields take
    their types from its parent's schema, which may hold fields included from its own)."""
    by_name = {stream.name: stream for stream in streams}

    def depth(stream: RestApiStream) -> int:
        return 0 if stream.link is None else 1 + depth(by_name[stream.link.parent])

    for stream in sorted(streams, key=depth):
        if stream.link is not None:
            stream.attach_to(by_name[stream.link.parent])


if __name__ == "__main__":
    TapRestApi.cli()
