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
from rest_connector.redact import install_log_redaction
from tap_rest_api.interrupt import StopGate, StopRequested
from tap_rest_api.output import BufferedMsgSpecWriter
from tap_rest_api.settings import CONFIG_SCHEMA, StreamSettings, check_unique_names
from tap_rest_api.streams import RestApiStream

install_log_redaction()


class TapRestApi(StrictConfigMixin, Tap):
    """Singer tap for generic REST APIs."""

    name = "tap-rest-api"
    package_name = "rest-api-connector"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.stop_gate = StopGate()
        self.oauth2_tokens = TokenSources()  # one token per distinct OAuth2 auth block
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RestApiStream]:
        """One stream per entry of ``streams``; every settings problem is reported at once."""
        streams: list[RestApiStream] = []
        problems: list[str] = []
        try:
            check_unique_names(self.config)
        except ConfigError as error:
            problems.append(str(error))
        for index in range(len(self.config["streams"])):
            try:
                streams.append(RestApiStream(self, StreamSettings.from_config(self.config, index)))
            except ConfigError as error:
                problems.append(str(error))
        if problems:
            raise ConfigValidationError("Config validation failed", errors=problems)
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


if __name__ == "__main__":
    TapRestApi.cli()
