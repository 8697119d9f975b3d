"""The error every decoder raises for bytes that are not records of its format."""

from __future__ import annotations

from rest_api_core.errors import ConnectorError


class RecordDecodingError(ConnectorError):
    """Bytes that are not records of the configured format; the message names the stream, the
    page (or zip member) and the line. Not retried: asking again gives the same bytes."""
