"""The tap's stream, built in any Spark process (driver-side worker or executor)."""

from __future__ import annotations

import copy
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from rest_connector.errors import ConfigError
from tap_rest_api.streams import RestApiStream
from tap_rest_api.tap import TapRestApi


class _SparkTap(TapRestApi):
    """The tap without its signal handlers (Spark owns its worker processes' signals), its
    streams taking the schema Spark already has instead of inferring one again."""

    def __init__(self, *args: Any, known_schema: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.known_schema = known_schema
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RestApiStream]:
        """The tap's streams; an inferred one takes ``known_schema`` if given."""
        streams = super().discover_streams()
        for stream in streams:
            if self.known_schema is not None and stream.schema_is_inferred:
                stream.adopt_schema(self.known_schema)
        return streams

    def _setup_signal_handlers(self) -> None:
        # Private singer-sdk hook (PluginBase): the only place we turn the handlers off.
        return


def _one_stream(config: dict[str, Any], name: str, requests_per_second: float | None
                ) -> dict[str, Any]:
    """``config`` with only stream ``name`` (its rate limit divided, if given)."""
    narrowed = copy.deepcopy(config)
    block = next(s for s in narrowed["streams"] if isinstance(s, dict) and s.get("name") == name)
    if requests_per_second is not None:
        block["rate_limit"] = {**(block.get("rate_limit") or {}),
                               "requests_per_second": requests_per_second}
    narrowed["streams"] = [block]
    return narrowed


def open_stream(config: dict[str, Any], name: str, *, schema: dict[str, Any] | None = None,
                alone: bool = False, requests_per_second: float | None = None
                ) -> RestApiStream:
    """Stream ``name`` of tap settings ``config``, checked as the tap checks them.

    ``schema`` (the one Spark has) spares the request that would infer it. ``alone`` (in a
    task) builds only that stream, at ``requests_per_second`` if given (its partition's
    share): the other streams' limits on the same host stay out of its way.
    """
    names = [s.get("name") for s in config.get("streams") or [] if isinstance(s, dict)]
    if name not in names:
        shown = ", ".join(map(str, names)) or "none"
        raise ConfigError(f"option 'stream': {name!r} is not a stream of the settings "
                          f"(streams: {shown})")
    if alone:
        config = _one_stream(config, name, requests_per_second)
    try:
        tap = _SparkTap(config=config, parse_env_config=False, validate_config=True,
                        known_schema=schema)
        return tap.streams[name]  # type: ignore[return-value]
    except ConfigValidationError as error:
        problems = "; ".join(map(str, error.errors)) or str(error)
        raise ConfigError(f"option 'config': {problems}") from None
