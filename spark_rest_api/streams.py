"""The tap's stream, built in any Spark process (driver-side worker or executor)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from rest_api_core.errors import ConfigError
from tap_rest_api.sdk_seam import start_bookmark
from tap_rest_api.streams import RestApiStream
from tap_rest_api.tap import TapRestApi


class _SparkTap(TapRestApi):
    """The tap without its signal handlers (Spark owns its worker processes' signals), the
    stream Spark reads taking the schema Spark already has instead of inferring one again."""

    def __init__(self, *args: Any, known_schemas: Mapping[str, dict[str, Any]] | None = None,
                 **kwargs: Any) -> None:
        self.known_schemas = dict(known_schemas or {})
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RestApiStream]:
        """The tap's streams; an inferred one takes its schema from ``known_schemas``."""
        streams = super().discover_streams()
        for stream in streams:
            if stream.name in self.known_schemas and stream.schema_keeper.inferred:
                stream.schema_keeper.adopt(self.known_schemas[stream.name])
        return streams

    handles_signals = False  # the Spark worker owns them


def _one_stream(config: dict[str, Any], name: str, rates: Mapping[str, float | None]
                ) -> dict[str, Any]:
    """``config`` with only stream ``name`` and its ancestors (a child is built attached to
    its parents: its included fields take their types from them), rate limits as ``rates``
    gives them (a partition's shares)."""
    narrowed = copy.deepcopy(config)
    by_name = {s.get("name"): s for s in narrowed["streams"] if isinstance(s, dict)}
    blocks, block = [], by_name[name]
    while block is not None and block not in blocks:  # checked as acyclic on the driver
        blocks.insert(0, block)
        if (rate := rates.get(block["name"])) is not None:
            block["rate_limit"] = {**(block.get("rate_limit") or {}),
                                   "requests_per_second": rate}
        block = by_name.get(block.get("parent"))
    narrowed["streams"] = blocks
    return narrowed


def open_stream(config: dict[str, Any], name: str, *, schema: dict[str, Any] | None = None,
                alone: bool = False, requests_per_second: float | None = None,
                ancestor_rates: Mapping[str, float | None] | None = None,
                state: dict[str, Any] | None = None) -> RestApiStream:
    """Stream ``name`` of tap settings ``config``, checked as the tap checks them.

    ``schema`` (the one Spark has) spares the request that would infer it. ``alone`` (in a
    task) builds only that stream and its ancestors, at ``requests_per_second`` if given (its
    partition's share; ``ancestor_rates`` for the ancestors a grandchild's task reads): the
    other streams' limits on the same host stay out of its way. ``state`` (the pipeline's
    Singer state): an incremental stream asks only for what follows its bookmark.
    """
    names = [s.get("name") for s in config.get("streams") or [] if isinstance(s, dict)]
    if name not in names:
        shown = ", ".join(map(str, names)) or "none"
        raise ConfigError(f"option 'stream': {name!r} is not a stream of the settings "
                          f"(streams: {shown})")
    if alone:
        config = _one_stream(config, name, {**(ancestor_rates or {}),
                                            name: requests_per_second})
    try:
        tap = _SparkTap(config=config, state=state or None, parse_env_config=False,
                        validate_config=True,
                        known_schemas={name: schema} if schema is not None else None)
        stream: RestApiStream = tap.streams[name]  # type: ignore[assignment]
        if state and stream.settings.incremental is not None and stream.parent_stream is None:
            start_bookmark(stream, None)  # as a sync starts: its requests send the bookmark
        return stream
    except ConfigValidationError as error:
        problems = "; ".join(map(str, error.errors)) or str(error)
        raise ConfigError(f"option 'config': {problems}") from None
