"""What a failed Spark task reports: our message, redacted, and nothing else.

Spark copies a task's Python traceback into its own logs and into the driver's exception,
outside our log redaction. The message of every error leaving a task is therefore redacted
here, and the original error (whose text may hold a URL with a key) is not chained.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rest_api_core.errors import ConnectorError
from rest_api_core.redact import SECRETS


class SparkTaskError(ConnectorError):
    """A read or write task that failed; the message says which one and why."""


@contextmanager
def reported_as(what: str) -> Iterator[None]:
    """Re-raise any error inside as a ``SparkTaskError`` naming ``what`` failed."""
    try:
        yield
    except SparkTaskError:
        raise
    except Exception as error:
        reason = str(error) if isinstance(error, ConnectorError) else (
            f"{type(error).__name__}: {error}")
        raise SparkTaskError(SECRETS.redact(f"{what}: {reason}")) from None


_TASK_MESSAGE = re.compile(rf"{SparkTaskError.__name__}: (.+)")


def task_failure(text: str) -> str | None:
    """The message of the first ``SparkTaskError`` in a Spark exception's text, if any."""
    found = _TASK_MESSAGE.search(text)
    return SECRETS.redact(found.group(1).strip()) if found else None
