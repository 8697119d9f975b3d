"""Rate limiters belong to a plugin run: shared by its clients per host, never across runs."""

from __future__ import annotations

import time

from rest_api_core.http import HttpClient
from rest_api_core.ratelimit import HostLimiters, RateLimiter


def start(limiter: RateLimiter) -> None:
    """Wait for a turn, as ``HttpClient`` does between its tries of ``try_start``."""
    while (wait := limiter.try_start()) > 0:
        time.sleep(wait)


def test_clients_of_one_run_share_the_host_limiter_at_the_strictest_rate():
    limiters = HostLimiters()
    first = HttpClient("http://127.0.0.1:9/a", requests_per_second=10, limiters=limiters)
    second = HttpClient("http://127.0.0.1:9/b", requests_per_second=4, limiters=limiters)
    other_host = HttpClient("http://127.0.0.2:9/a", limiters=limiters)
    assert first.limiter is second.limiter
    assert other_host.limiter is not first.limiter
    started = time.monotonic()
    for _ in range(3):
        start(first.limiter)
    assert time.monotonic() - started >= 0.45  # 4/s, the stricter of the two: 250 ms apart


def test_two_runs_never_share_or_tighten_each_others_limits():
    strict = HttpClient("http://127.0.0.1:9/a", requests_per_second=1, limiters=HostLimiters())
    free = HttpClient("http://127.0.0.1:9/a", limiters=HostLimiters())
    assert strict.limiter is not free.limiter
    started = time.monotonic()
    for _ in range(5):
        start(free.limiter)
    assert time.monotonic() - started < 0.5
