"""The tap's stream, built in any Spark process (driver-side worker or executor)."""

from __future__ import annotations

import copy
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from rest_connector.errors import ConfigError
from tap_rest_api.streams import RestApiStream
from tap_rest_api.tap import TapRestApi


class _SparkTap(TapRestApi):
    """The tap without its signal handlers: Spark owns its worker processes' signals."""

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


def open_stream(config: dict[str, Any], name: str, *, alone: bool = False,
                requests_per_second: float | None = None) -> RestApiStream:
    """Stream ``name`` of tap settings ``config``, checked as the tap checks them.

    ``alone`` (in a task) builds only that stream, at ``requests_per_second`` if given (its
    partition's share): the other streams' limits on the same host stay out of its way.
    """
    names = [s.get("name") for s in config.get("streams") or [] if isinstance(s, dict)]
    if name not in names:
        shown = ", ".join(map(str, names)) or "none"
        raise ConfigError(f"option 'stream': {name!r} is not a stream of the settings "
                          f"(streams: {shown})")
    if alone:
        config = _one_stream(config, name, requests_per_second)
    try:
        tap = _SparkTap(config=config, parse_env_config=False, validate_config=True)
        return tap.streams[name]  # type: ignore[return-value]
    except ConfigValidationError as error:
        problems = "; ".join(map(str, error.errors)) or str(error)
        raise ConfigError(f"option 'config': {problems}") from None
