"""Errors the connector raises on purpose, each with a message meant for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


class ConnectorError(Exception):
    """Base class: an expected failure with a clear, already-redacted message."""


class ConfigError(ConnectorError):
    """Settings are wrong; raised before any request is sent."""


class HTTPStatusError(ConnectorError):
    """A response status that is not retried, or still failing after every retry."""

    def __init__(
        self, message: str, status: int, response: requests.Response | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.response = response


class ResponseTooLargeError(ConnectorError):
    """A response body above ``max_response_bytes``."""


class DeadlineExceededError(ConnectorError):
    """A request that did not finish within its total deadline."""
