"""Request slots (the run-wide ``concurrency``) are held only while a request is on its way:
a host paused by its rate-limit headers holds none, so streams of other hosts go on."""

from __future__ import annotations

from collections.abc import Callable

from tests.tap.conftest import TapRun, stream
from tests.tap.pages_api import PagesApi

PAGES = {"type": "offset", "page_size": 10, "total_field": "meta.total"}


class PausingApi(PagesApi):
    """The first page of ``/paused`` says the quota is spent for 3 s (``X-RateLimit-*``)."""

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = super().answer(path)
        if path.startswith("/paused") and "offset=0&" in path:
            headers = {**headers, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}
        return status, headers, body


def test_a_paused_host_holds_no_slot_other_hosts_streams_need(
        tap: Callable[..., TapRun]) -> None:
    api = PausingApi(total=40)
    with api.serving() as url:
        port = url.split(":")[2].split("/")[0]
        config = {"concurrency": 2, "streams": [
            stream("paused", f"http://127.0.0.1:{port}/paused", pagination=PAGES,
                   response={"root_key": "data"}, concurrency=2),
            stream("other", f"http://localhost:{port}/other", pagination=PAGES,
                   response={"root_key": "data"}, concurrency=1),
        ]}
        run = tap(config)
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records("other")] == list(range(40))
    assert [r["id"] for r in run.records("paused")] == list(range(40))
    paused = [at for at, path in api.requests if path.startswith("/paused")]
    other = [at for at, path in api.requests if path.startswith("/other")]
    # The other host's pages are all read while the paused host waits out its 3 s: its
    # second request comes after every one of theirs.
    assert max(other) < sorted(paused)[1], (paused, other)
