"""The ``report`` block (create a report job, poll it, download its files), checked; and the
stream-level checks of ``response`` and ``report`` that the tap and the pipeline app share."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rest_api_core.config import SettingsProblem
from tap_rest_api.decoders import format_problems

JOB_PLACEHOLDER = re.compile(r"\{job\.([^{}]*)\}")
_DOT_PATH = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ReportSettings:
    """A checked ``report`` block, defaults filled in."""

    create_url: str
    create_method: str
    create_body: dict[str, Any] | None
    create_params: dict[str, Any]
    poll_url: str
    done: frozenset[str]
    failed: frozenset[str]
    url_field: str
    every: float = 5.0
    timeout: float = 3600.0
    status_field: str = "status"
    message_field: str = "message"

    @classmethod
    def of(cls, block: dict[str, Any]) -> ReportSettings:
        """The settings of a ``report`` block ``response_problems`` found nothing wrong in."""
        create, poll = block["create"], block["poll"]
        optional = {key: float(poll[key]) for key in ("every", "timeout")
                    if poll.get(key) is not None}
        optional.update({key: poll[key] for key in ("status_field", "message_field")
                         if poll.get(key) is not None})
        return cls(
            create_url=create["url"], create_method=(create.get("method") or "POST").upper(),
            create_body=create.get("body"), create_params=dict(create.get("params") or {}),
            poll_url=poll["url"], done=frozenset(map(str, poll["done"])),
            failed=frozenset(map(str, poll.get("failed") or ())),
            url_field=block["download"]["url_field"], **optional)


def response_problems(streams: Sequence[Any]) -> list[SettingsProblem]:
    """Every mistake in the streams' ``response`` formats and ``report`` blocks, each named by
    its path; the pipeline app reports them at their YAML lines, the tap before any request."""
    return [SettingsProblem(("streams", index, *path), message)
            for index, stream in enumerate(streams) if isinstance(stream, dict)
            for path, message in (*format_problems(stream), *_report_problems(stream))]


def _report_problems(stream: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    report = stream.get("report")
    if not isinstance(report, dict):
        if stream.get("url") is None:
            yield ("url",), "required setting is missing (or a report block to create)"
        return
    if stream.get("url") is not None:
        yield ("url",), "not used with report: the first request is report.create.url"
    for name, why in (("pagination", "a report's files are read whole, one after another"),
                      ("incremental", "the bookmark has no request to go into; put the date "
                                      "range in report.create")):
        if stream.get(name) is not None:
            yield (name,), f"does not apply to a stream with report ({why})"
    if stream.get("schema") is None:
        yield ("schema",), ("required with report: a schema is never inferred from a report "
                            "(that would run the job twice)")
    poll = report.get("poll") if isinstance(report.get("poll"), dict) else {}
    for match in JOB_PLACEHOLDER.finditer(str(poll.get("url") or "")):
        if not _DOT_PATH.fullmatch(match.group(1)):
            yield ("report", "poll", "url"), (f"{match.group(0)} is not a placeholder: expected "
                                              "{job.<dot path>}, such as {job.id}")
    overlap = set(poll.get("done") or ()) & set(poll.get("failed") or ())
    if overlap:
        yield ("report", "poll", "failed"), (f"{', '.join(sorted(map(str, overlap)))} is also in "
                                             "done")
