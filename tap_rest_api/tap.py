"""tap-rest-api: reads any REST endpoint its settings describe and writes Singer messages."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from rest_connector.config import StrictConfigMixin
from rest_connector.errors import ConfigError
from rest_connector.redact import install_log_redaction
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


if __name__ == "__main__":
    TapRestApi.cli()
