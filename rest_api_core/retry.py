"""Retry policy: which failures are retried, and how long to wait before the next try."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import backoff
import requests

from rest_api_core.errors import DeadlineExceededError
from rest_api_core.ratelimit_headers import exhausted_wait

DEFAULT_RETRY_ON = (429, 500, 502, 503, 504)
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RETRY_WAIT = 300.0

F = TypeVar("F", bound=Callable[..., Any])


class RetriableStatusError(Exception):
    """A response whose status the policy retries; carries the response for ``Retry-After``."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


class RetryWaitTooLongError(Exception):
    """The server asked us to wait longer than ``max_retry_wait`` allows."""


TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    RetriableStatusError,
    DeadlineExceededError,
    ConnectionError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
"""Failures that may succeed on another try: retry statuses, broken connections, timeouts."""


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds a response's ``Retry-After`` asks for (delta-seconds or HTTP-date), else None."""
    if response is None:
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """What to retry and how long to wait: ``Retry-After`` first, else full-jitter backoff."""

    retry_on: frozenset[int] = field(default_factory=lambda: frozenset(DEFAULT_RETRY_ON))
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    backoff_base: float = 1.0

    @classmethod
    def from_settings(cls, rate_limit: dict[str, Any] | None) -> RetryPolicy:
        """Build the policy from a ``rate_limit`` settings block (absent keys take defaults)."""
        settings = rate_limit or {}
        return cls(
            retry_on=frozenset(settings.get("retry_on") or DEFAULT_RETRY_ON),
            max_retries=int(settings.get("max_retries", DEFAULT_MAX_RETRIES)),
            max_retry_wait=float(settings.get("max_retry_wait", DEFAULT_MAX_RETRY_WAIT)),
        )

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based) that raised ``error``."""
        response = getattr(error, "response", None)
        demanded = getattr(error, "wait", None)  # a response rule's own `wait`
        if demanded is None:
            demanded = retry_after_seconds(response)
        if demanded is None and response is not None:
            demanded = exhausted_wait(response.headers)
        if demanded is None:
            return random.uniform(0, min(self.max_retry_wait, self.backoff_base * 2**attempt))
        if demanded > self.max_retry_wait:
            msg = (
                f"the server asked to wait {demanded:.0f} s before retrying (Retry-After or "
                "rate-limit reset), "
                f"more than rate_limit.max_retry_wait = {self.max_retry_wait:.0f} s"
            )
            raise RetryWaitTooLongError(msg)
        return demanded

    def _waits(self) -> Generator[float, BaseException | None, None]:
        error = yield 0.0
        attempt = 0
        while True:
            error = yield self.wait_for(error, attempt)
            attempt += 1

    def retrying(self, func: F, on_backoff: Callable[[dict], None] | None = None) -> F:
        """Wrap ``func`` so transient failures are retried under this policy (on ``backoff``)."""
        return backoff.on_exception(
            self._waits,
            TRANSIENT_ERRORS,
            max_tries=self.max_retries + 1,
            jitter=None,
            on_backoff=on_backoff,
            logger=None,
        )(func)
