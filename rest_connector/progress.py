"""What ``rest-connector run`` shows while it runs, and which plugin log lines it leaves out.

On a terminal the progress line is redrawn in place twice a second; in a log (stderr not a
terminal) it is printed as a line of its own at most every ``LOG_INTERVAL`` seconds, so a
long run's log shows it is alive without a line per page.
"""

from __future__ import annotations

import re
from collections import Counter

TERMINAL_INTERVAL = 0.5
LOG_INTERVAL = 5.0
LOG_LEVELS = ("debug", "info", "warning", "error")
CHATTER = (b"Skipping parse of env var settings",)
"""singer-sdk start-up lines of every plugin: shown only with ``--log-level debug``."""
_METRIC_STREAM = re.compile(rb'"stream":\s*"([^"]*)"')


def page_of(line: bytes) -> str | None:
    """The stream of a successful-request METRIC line of the tap (None for other lines)."""
    if b'"http_request_duration"' not in line or b'"succeeded"' not in line:
        return None
    found = _METRIC_STREAM.search(line)
    return found.group(1).decode(errors="replace") if found else "?"


def is_chatter(line: bytes, log_level: str) -> bool:
    """A plugin start-up line the run hides unless the log level is debug."""
    return log_level != "debug" and any(marker in line for marker in CHATTER)


def progress_text(records: Counter[str], pages: Counter[str], elapsed: float) -> str:
    """``customers: 1,200 records, 12 pages, 400 records/s · invoices: ... · 3 s``: each
    stream's counts and rate, then the time since the start."""
    elapsed = max(elapsed, 1e-6)
    parts = [f"{name}: {records[name]:,} records, {pages[name]:,} pages, "
             f"{records[name] / elapsed:,.0f} records/s"
             for name in sorted(set(records) | set(pages))]
    return " · ".join([*(parts or ["starting"]), f"{elapsed:.0f} s"])
