"""Reading a server's rate-limit headers: how long until it accepts the next request.

Understood forms, each meaning "wait" only when nothing remains:
- ``RateLimit: "default";r=0;t=30`` (IETF httpapi draft: ``r`` remaining, ``t`` seconds);
- ``RateLimit-Remaining: 0`` with ``RateLimit-Reset: N``;
- ``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset: N`` (GitHub and many others).

A reset above 10^9 is an epoch time in seconds; otherwise it is a number of seconds to wait.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

EPOCH_THRESHOLD = 1_000_000_000
_PARAM = re.compile(r";\s*([a-z]+)\s*=\s*(-?\d+(?:\.\d+)?)")


def _reset_seconds(reset: str | None) -> float | None:
    try:
        value = float(reset) if reset is not None else None
    except ValueError:
        return None
    if value is None:
        return None
    return max(0.0, value - time.time()) if value > EPOCH_THRESHOLD else max(0.0, value)


def _structured_wait(header: str) -> float | None:
    """``RateLimit: "policy";r=0;t=30`` (several policies may be comma-separated)."""
    waits = []
    for item in header.split(","):
        params = dict(_PARAM.findall(item))
        if params.get("r") is not None and float(params["r"]) <= 0:
            waits.append(_reset_seconds(params.get("t", "0")) or 0.0)
    return max(waits) if waits else None


def exhausted_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until the quota resets when the server says none remains, else None."""
    structured = headers.get("RateLimit")
    if structured and ";" in structured:
        wait = _structured_wait(structured)
        if wait is not None:
            return wait
    for prefix in ("RateLimit-", "X-RateLimit-"):
        remaining = headers.get(f"{prefix}Remaining")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            return _reset_seconds(headers.get(f"{prefix}Reset")) or 0.0
    return None
