"""What a person reads on the tap's stderr: per-parent lines at DEBUG, and a failure as one
line naming the stream, the request and the setting that would help.

singer-sdk logs "Beginning ... sync of 'issues'", "Starting incremental sync ..." and "Stream
is assumed to be unsorted" once per parent record of a child stream: 100 parents, 300 lines.
``QuietRepeats`` lets the first of each through per logger and shows the rest only at DEBUG.
An ordinary failure (HTTP, auth, config, pagination: a ``ConnectorError``) ends the run with
one line; its traceback only at DEBUG (``TAP_REST_API_LOGLEVEL=DEBUG``, which
``rest-connector run --log-level debug`` sets). Anything else is a bug and says so.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import Counter
from types import TracebackType

from rest_api_core.errors import ConnectorError, HTTPStatusError
from rest_api_core.redact import SECRETS

ALWAYS_DEBUG = ("An unhandled error occurred while syncing",)
"""The SDK's "unhandled error" line for each level from the failed child to its root (the
failure line says which stream failed). Start-up lines stay: tests and tools wait for them;
``rest-connector run`` hides them."""
ONCE_PER_LOGGER = ("Beginning sync of", "Starting incremental sync of",
                   "Stream is assumed to be unsorted", "Pagination stopped after",
                   "Stream '%s': stopped at pagination.max_pages",
                   "Stream '%s': pagination.total_field", "Stream '%s', page %d: response.root_key")
"""Message templates singer-sdk and the tap repeat for every parent record of a child stream
(and every page): the first is shown, a repeated warning is counted."""
EMPTY_ON_STATUSES = (404, 410)
BUG_REPORT = ("this is a bug in tap-rest-api, not in your settings: please report it to the "
              "rest-api-connector maintainers with the traceback below")


class QuietRepeats(logging.Filter):
    """A handler filter: per-parent SDK lines after the first, and start-up chatter, become
    DEBUG records (dropped unless the root logger shows DEBUG). Thread-safe."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        self._repeats: Counter[tuple[str, str]] = Counter()
        self._first_warning: dict[tuple[str, str], str] = {}

    def _demoted(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        if template.startswith(ALWAYS_DEBUG):
            return True
        prefix = next((p for p in ONCE_PER_LOGGER if template.startswith(p)), None)
        if prefix is None:
            return False
        key = (record.name, prefix)
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)
                if record.levelno >= logging.WARNING:
                    self._first_warning[key] = record.getMessage()
                return False
            if key in self._first_warning:
                self._repeats[key] += 1
        return True

    def log_repeats(self) -> None:
        """One line per warning shown once but repeated, with how many more times it came
        (nothing at DEBUG, where each was shown)."""
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return
        with self._lock:
            repeated = [(key, self._first_warning[key], n) for key, n in self._repeats.items()]
        for (name, _), message, count in repeated:
            logging.getLogger(name).warning("%s (and %d more times like it, per parent record "
                                            "or page: --log-level debug shows each)",
                                            message, count)

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, or demote it to DEBUG and keep it only when DEBUG is shown
        (decided once per record, however many handlers see it)."""
        decided = getattr(record, "quiet_repeats_demoted", None)
        if decided is None:
            decided = record.levelno > logging.DEBUG and self._demoted(record)
            record.quiet_repeats_demoted = decided
        if not decided:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def install_quiet_repeats() -> QuietRepeats:
    """Put one ``QuietRepeats`` on every handler of the root logger (the SDK's console)."""
    quiet = QuietRepeats()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    return quiet


def _failing_stream(trace: TracebackType | None) -> object | None:
    """The innermost stream whose code was running when the error was raised."""
    from singer_sdk import Stream

    found = None
    for frame, _ in traceback.walk_tb(trace):
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Stream):
            found = candidate
    return found


def _hint(error: ConnectorError, stream: object | None) -> str:
    """The setting that would handle this failure, if one does."""
    name = getattr(stream, "name", None)
    if not isinstance(error, HTTPStatusError) or name is None:
        return ""
    if error.status in EMPTY_ON_STATUSES:
        return (f" — if this answer means \"no records\" (a parent gone, a feature turned off), "
                f"set response.empty_on: [404, 410] on '{name}'")
    if error.status in (401, 403):
        return f" — check the credentials in '{name}'.auth (and the token's scopes)"
    return ""


def failure_line(error: ConnectorError, trace: TracebackType | None) -> str:
    """``stream 'x': <what failed, where, the API's words> — <the setting that helps>``."""
    stream = _failing_stream(trace)
    where = f"stream '{stream.name}': " if stream is not None else ""
    return SECRETS.redact(f"{where}{error}{_hint(error, stream)}")


def log_failure(logger: logging.Logger, error: BaseException) -> None:
    """One ERROR line for an ordinary failure (its traceback at DEBUG), or a bug report."""
    if isinstance(error, ConnectorError):
        logger.error(failure_line(error, error.__traceback__))
        logger.debug("Traceback of the failure above", exc_info=error)
    else:
        logger.error("Unexpected %s: %s", type(error).__name__, BUG_REPORT)
