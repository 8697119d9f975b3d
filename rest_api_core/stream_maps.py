"""What singer-sdk stream maps do to a stream, for the paths that skip them when they do nothing."""

from __future__ import annotations

from collections.abc import Sequence

from singer_sdk.mapper import SameRecordTransform, StreamMap


def passes_unchanged(maps: Sequence[StreamMap], stream: str) -> bool:
    """True when ``stream``'s records leave its stream maps as they came: one map, the
    identity, under the stream's own name, without flattening."""
    return (
        len(maps) == 1 and type(maps[0]) is SameRecordTransform
        and maps[0].stream_alias == stream and not maps[0].flattening_enabled
    )
