"""target-rest-api: POST Singer records to a REST endpoint in batches, and never lose one."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from rest_api_core import settings
from rest_api_core.auth import build_authenticator
from rest_api_core.config import forbid_unknown_keys
from rest_api_core.credentials import CredentialSources
from rest_api_core.errors import ConfigError
from rest_api_core.http import HttpClient
from rest_api_core.http_defaults import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
from rest_api_core.ratelimit import HostLimiters
from rest_api_core.redact import install_log_redaction
from rest_api_core.response_rules import ResponseRules, parse_rules
from rest_api_core.retry import RetryPolicy
from rest_api_core.sdk_seam import TargetHooks
from rest_api_core.startup import FreezesImportsMixin
from rest_api_core.stream_maps import passes_unchanged
from rest_api_core.strict_config import StrictConfigMixin
from rest_api_core.target_shutdown import DRAIN_DEADLINE, GracefulShutdownMixin
from rest_api_core.tls import Transport
from target_rest_api.dead_letter import DeadLetterFile
from target_rest_api.delivery import StreamDelivery
from target_rest_api.in_flight import DeliveryWindow
from target_rest_api.sinks import DEFAULT_BATCH_SIZE, RestApiSink

METHODS = ("POST", "PUT", "PATCH")
ON_FAILURE = ("fail", "dead_letter")


def _settings_schema() -> dict:
    schema = th.PropertiesList(
        th.Property("url", th.StringType, required=True, title="URL",
                    description="Endpoint receiving the batches; '{stream}' is replaced by "
                                "the stream name"),
        th.Property("method", th.StringType, allowed_values=list(METHODS), default="POST",
                    description="HTTP method of every request"),
        settings.HEADERS,
        settings.AUTH,
        th.Property("batch_size", th.IntegerType(minimum=1), default=DEFAULT_BATCH_SIZE,
                    title="Batch size", description="Records per request"),
        th.Property("max_in_flight", th.IntegerType(minimum=1), default=1,
                    title="Batches in flight",
                    description="Batches being sent at once, all streams together; above 1 "
                                "they may reach the API out of order"),
        settings.RATE_LIMIT,
        settings.TIMEOUT,
        settings.MAX_RESPONSE_BYTES,
        settings.TLS,
        settings.PROXY,
        th.Property("wrap_key", th.StringType, title="Wrap key",
                    description='Send {"<wrap_key>": [records]} instead of a bare JSON array'),
        th.Property("on_failure", th.StringType, allowed_values=list(ON_FAILURE),
                    default="fail", title="On failure",
                    description="fail: stop with a non-zero exit; dead_letter: append the "
                                "batch to dead_letter_path and go on"),
        th.Property("dead_letter_path", th.StringType, title="Dead-letter file",
                    description="JSON-lines file for undelivered records "
                                "(required with on_failure: dead_letter)"),
        th.Property("response", th.ObjectType(settings.RESPONSE_RULES),
                    title="Response rules",
                    description="What the sink's answers mean beyond their status: a 200 "
                                "whose body says the batch was rejected can fail or retry"),
        DRAIN_DEADLINE,
    ).to_dict()
    forbid_unknown_keys(schema)
    schema["if"] = {"properties": {"on_failure": {"const": "dead_letter"}},
                    "required": ["on_failure"]}
    schema["then"] = {"required": ["dead_letter_path"]}
    return schema


def stream_url(template: str, stream_name: str) -> str:
    """The endpoint for one stream: ``{stream}`` in the template replaced, URL-quoted."""
    return template.replace("{stream}", quote(stream_name, safe=""))


def max_in_flight(config: Mapping[str, Any]) -> int:
    """Batches sent at once: the ``max_in_flight`` setting."""
    return int(config.get("max_in_flight") or 1)


def http_client_for(config: Mapping[str, Any]) -> HttpClient:
    """The client for checked settings: auth for the URL's origin, retries, rate limit; no
    redirects (requests would turn a POST into a GET). Raises ``ConfigError`` for bad auth."""
    url = config["url"]
    rate_limit = config.get("rate_limit") or {}
    policy = RetryPolicy.from_settings(rate_limit)
    timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
    limiters = HostLimiters()  # the token endpoint counts against the same per-host limits
    transport = Transport.parse(config.get("tls"), config.get("proxy"))
    return HttpClient(
        url,
        auth=build_authenticator(config.get("auth"), url, policy=policy, timeout=timeout,
                                 tokens=CredentialSources(limiters), transport=transport),
        transport=transport,
        policy=policy,
        limiters=limiters,
        requests_per_second=rate_limit.get("requests_per_second"),
        timeout=timeout,
        max_response_bytes=int(config.get("max_response_bytes") or DEFAULT_MAX_RESPONSE_BYTES),
        follow_redirects=False,
        connections=max_in_flight(config),
        rules=ResponseRules(parse_rules((config.get("response") or {}).get("rules"),
                                        "response.rules")),
    )


def stream_delivery(
    config: Mapping[str, Any],
    client: HttpClient,
    stream_name: str,
    key_properties: Sequence[str] = (),
    dead_letters: DeadLetterFile | None = None,
) -> StreamDelivery:
    """How one stream's batches are sent under checked settings, through ``client``."""
    return StreamDelivery(
        client=client,
        url=stream_url(config["url"], stream_name),
        method=config.get("method") or "POST",
        headers=dict(config.get("headers") or {}),
        wrap_key=config.get("wrap_key"),
        key_properties=tuple(key_properties),
        dead_letters=dead_letters,
    )


class TargetRestApi(TargetHooks, FreezesImportsMixin, StrictConfigMixin, GracefulShutdownMixin,
                    Target):
    """Sends each stream's records as JSON arrays of ``batch_size`` to an HTTP endpoint."""

    name = "target-rest-api"
    config_jsonschema = _settings_schema()
    default_sink_class = RestApiSink
    message_reader_class = MsgSpecReader

    def __init__(self, **kwargs: Any) -> None:
        install_log_redaction()
        super().__init__(**kwargs)
        self.dead_letters = (
            DeadLetterFile(self.config["dead_letter_path"])
            if self.config.get("on_failure") == "dead_letter"
            else None
        )
        self.http_client = self._http_client()
        self.deliveries = DeliveryWindow(max_in_flight(self.config), self._emit_state)
        self._positions: dict[str, int] = {}
        self._positions_lock = threading.Lock()
        self._last_state_written: dict | None = None
        self._unmapped_sinks: dict[str, RestApiSink] = {}

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's built-in settings, minus ``batch_size_rows`` (``batch_size`` is ours)."""
        super().append_builtin_config(config_jsonschema)
        config_jsonschema["properties"].pop("batch_size_rows", None)

    def _http_client(self) -> HttpClient:
        """The one client of this process: all sinks share its session and rate limiter."""
        try:
            return http_client_for(self.config)
        except ConfigError as error:
            raise ConfigValidationError("Config validation failed", errors=[str(error)]) from None

    def delivery_for(self, stream_name: str, key_properties: Sequence[str]) -> StreamDelivery:
        """How one stream's batches are sent: its URL, the shared client, the settings."""
        return stream_delivery(self.config, self.http_client, stream_name, key_properties,
                               self.dead_letters)

    def claim_positions(self, stream_name: str, count: int) -> int:
        """Reserve the next ``count`` positions of a stream; return the first one."""
        with self._positions_lock:
            first = self._positions.get(stream_name, 0)
            self._positions[stream_name] = first + count
        return first

    def get_sink(
        self,
        stream_name: str,
        *,
        record: dict | None = None,
        schema: dict | None = None,
        key_properties: Sequence[str] | None = None,
    ) -> Sink:
        """As the SDK's, but a sink replaced by a new schema is delivered first (keeps order)."""
        if schema is None:  # the per-record call: the stream's active sink
            return self.active_sinks[stream_name]
        existing = self.active_sinks.get(stream_name)
        if existing is not None and existing.original_schema != schema:
            self.drain_one(existing)
        sink = super().get_sink(
            stream_name, record=record, schema=schema, key_properties=key_properties
        )
        if isinstance(sink, RestApiSink) and self._takes_records_as_they_come(sink):
            self._unmapped_sinks[stream_name] = sink
        else:
            self._unmapped_sinks.pop(stream_name, None)
        return sink

    def _takes_records_as_they_come(self, sink: RestApiSink) -> bool:
        """True when the stream's only map passes records through unchanged (no stream
        maps, no flattening) and no record metadata is added."""
        stream_maps = self.mapper.stream_maps.get(sink.stream_name, [])
        return (passes_unchanged(stream_maps, sink.stream_name)
                and not sink.include_sdc_metadata_properties)

    def on_record_message(self, message_dict: dict) -> None:
        """As the SDK's; a record that nothing changes on its way goes straight into its
        sink's batch, which is checked as a whole before it is sent (see ``sinks``)."""
        sink = self._unmapped_sinks.get(message_dict.get("stream"))  # type: ignore[arg-type]
        record = message_dict.get("record")
        if sink is None or type(record) is not dict:
            self.sdk_process_record_message(message_dict)
            return
        if sink.take(record):
            self.drain_one(sink)
        self.check_record_age()

    def on_state_message(self, message_dict: dict) -> None:
        """Keep the STATE; pass it on at once when no record before it is still buffered."""
        super().on_state_message(message_dict)
        sinks = [*self.sinks_to_clear, *self.active_sinks.values()]
        if self.latest_state and not any(sink.current_size for sink in sinks):
            self.on_state_ready(self.latest_state)

    def on_state_ready(self, state: dict) -> None:
        """Pass a STATE on once every batch submitted before it is acknowledged or
        dead-lettered (at once with ``max_in_flight`` 1: they are by now)."""
        self.deliveries.offer_state(state)

    def _emit_state(self, state: dict) -> None:
        """Write a STATE not written already (the delivery window calls it, one at a time)."""
        if state == self._last_state_written:
            return
        self.sdk_write_state_message(state)
        self._last_state_written = state

    def on_drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        """As the SDK's, then wait for the batches in flight: a full drain (end of input, a
        stop signal, the SDK's record-age limit) ends with every batch delivered, and the
        first failure raised before ``drain_all`` writes STATE."""
        super().on_drain_all(sink_list, parallelism)
        self.deliveries.wait()

    def process_endofpipe(self) -> None:
        """Deliver what is buffered, then report any dead-lettered records."""
        try:
            super().process_endofpipe()
        finally:
            if self.dead_letters is not None and self.dead_letters.counts:
                self.logger.warning("Undelivered: %s", self.dead_letters.summary())
