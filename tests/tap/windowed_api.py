"""A local API that takes a time range and refuses a wider one with 400, like Stripe's
``created[gte]``/``created[lt]`` lists: records in ``[gte, lt)``, oldest first, in pages
of ``page_size`` with a ``starting_after`` cursor."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

from werkzeug import Request, Response

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def charges(days: int = 92, every: timedelta = timedelta(hours=10)) -> list[dict]:
    """A record every ``every`` from 2024-01-01 for ``days`` days."""
    rows, moment = [], START
    while moment < START + timedelta(days=days):
        rows.append({"id": len(rows) + 1, "created": iso(moment)})
        moment += every
    return rows


class WindowedApi:
    """The handler: parses the range in ``fmt``, answers 400 above ``max_width``; a window
    starting at an instant in ``fail_at`` answers 500 (the run's failure)."""

    def __init__(self, rows: list[dict], fmt: str = "iso8601",
                 max_width: timedelta = timedelta(days=7), page_size: int = 4,
                 inclusive_end: bool = False) -> None:
        self.rows = rows
        self.fmt = fmt
        self.max_width = max_width
        self.page_size = page_size
        self.inclusive_end = inclusive_end
        self.fail_at: set[datetime] = set()
        self.ranges: list[tuple[datetime, datetime]] = []
        self._lock = threading.Lock()

    def parse(self, value: str) -> datetime:
        if self.fmt == "unix":
            return datetime.fromtimestamp(int(value), timezone.utc)
        if self.fmt == "unix_ms":
            return datetime.fromtimestamp(int(value) / 1000, timezone.utc)
        if self.fmt == "iso8601":
            assert value.endswith("Z"), value
            return datetime.fromisoformat(value)
        return datetime.strptime(value, self.fmt).replace(tzinfo=timezone.utc)

    def __call__(self, request: Request) -> Response:
        args = request.args if request.method == "GET" else json.loads(request.data)
        start, end = self.parse(args["created[gte]"]), self.parse(args["created[lt]"])
        if self.inclusive_end:  # the API's end names the window's last day
            end += timedelta(days=1)
        if end - start > self.max_width or end <= start:
            return Response(json.dumps({"error": {"message": "range too wide"}}), status=400,
                            content_type="application/json")
        if start in self.fail_at:
            return Response("down for maintenance", status=500)
        after = int(args.get("starting_after", 0))
        if not after:
            with self._lock:
                self.ranges.append((start, end))
        found = [r for r in self.rows
                 if start <= datetime.fromisoformat(r["created"]) < end and r["id"] > after]
        page = found[:self.page_size]
        return Response(json.dumps({"data": page, "has_more": len(found) > len(page)}),
                        content_type="application/json")
