"""Secret redaction by value, for logs, errors and anything else a person may read."""

from __future__ import annotations

import base64
import logging
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_SECRET_LENGTH = 3


class Redactor:
    """A thread-safe set of secret values, replaced by ``***`` wherever they appear."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, *values: object) -> None:
        """Register secret values, with the encoded forms they take in URLs and headers."""
        forms: set[str] = set()
        for value in values:
            if value is None or len(str(value)) < _MIN_SECRET_LENGTH:
                continue
            text = str(value)
            forms.update({text, quote(text, safe=""), quote_plus(text)})
        with self._lock:
            merged = set(self._secrets) | forms
            # Longest first, so a secret containing another is masked whole.
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def add_basic_auth(self, username: str, password: str | None) -> None:
        """Register a basic-auth pair, including its base64 ``Authorization`` form."""
        pair = f"{username}:{password or ''}".encode()
        self.add(username, password, base64.b64encode(pair).decode())

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def clear(self) -> None:
        """Forget every secret (tests use this between runs in one process)."""
        with self._lock:
            self._secrets = ()


SECRETS = Redactor()
"""The process-wide redactor: plugins register their secrets here when they read config."""


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if not SECRETS:
        return record
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg, record.args = SECRETS.redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = SECRETS.redact(logging.Formatter().formatException(record.exc_info))
    return record


def install_log_redaction() -> None:
    """Redact registered secrets from every log record, whatever logger or handler emits it."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
