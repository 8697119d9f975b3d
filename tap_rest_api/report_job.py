"""A stream's answers from a report job: create it, poll it until done, download its files.

The create, poll and download requests go through the stream's HTTP client: its retry policy,
rate limit and request slots. A download URL on another origin (a pre-signed S3 or GCS link)
gets no credentials and none of the configured headers. Each file is read with the stream's
``response`` settings, one after another. A stop signal ends a poll's wait at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from singer_sdk.streams.rest import HTTPRequest

from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConnectorError
from rest_api_core.origin import origin_of
from rest_api_core.redact import SECRETS
from rest_api_core.retry import retry_after_seconds
from tap_rest_api.interrupt import StopRequested
from tap_rest_api.records import decode_json
from tap_rest_api.report_settings import JOB_PLACEHOLDER
from tap_rest_api.request_plan import prepared

if TYPE_CHECKING:
    from tap_rest_api.streams import RestApiStream

_WAIT_SLICE = 0.25
"""A poll's wait is slept in slices this long, so a stop is seen within a second in any
thread (the main thread's wait is interrupted at once)."""


class ReportJobError(ConnectorError):
    """A report job that failed, did not finish in time, or whose answers lack a field."""


class ReportJob:
    """One report job of one sync (per parent record for a child stream)."""

    def __init__(self, stream: RestApiStream, context: dict | None) -> None:
        self.stream = stream
        self.context = context
        self.report = stream.settings.report
        self.where = f"stream '{stream.name}'"
        self.job = "the report job"
        self.status: Any = "not created"

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record of every file of the job, in order."""
        report = self.report
        url, params, body = report.create_url, report.create_params, report.create_body
        link, context = self.stream.settings.parent_link, self.context
        if link is not None and context is not None:  # one job per parent record
            url = link.fill_url(url, context)
            params = link.fill_params(params, context)
            body = link.fill_body(body, context)
        created = self._json(self._prepared(url, report.create_method, params, body,
                                           self._job_headers))[1]
        poll_url = self._poll_url(created)
        self.job = f"report job {SECRETS.redact(urlsplit(poll_url).path)}"
        try:
            answer = self._poll(poll_url)
        except StopRequested:
            self.stream.logger.error("%s: %s left unfinished (last status: %s): stopped",
                                     self.where, self.job, self.status)
            raise
        for url in self._download_urls(answer, poll_url):
            yield from self._file(url)

    def _poll_url(self, created: Any) -> str:
        def value(match: Any) -> str:
            found = dig(created, match.group(1))
            if found is None or isinstance(found, (dict, list)):
                shown = ", ".join(map(str, created)) if isinstance(created, dict) else "no fields"
                msg = (f"{self.where}: report.poll.url needs {match.group(0)}, which the create "
                       f"answer lacks or holds no single value at (it has: {shown})")
                raise ReportJobError(msg)
            return quote(str(found), safe="")

        return JOB_PLACEHOLDER.sub(value, self.report.poll_url)

    def _poll(self, url: str) -> Any:
        report = self.report
        deadline = time.monotonic() + report.timeout
        while True:
            response, answer = self._json(self._prepared(url, "GET", {}, None,
                                                        self._job_headers))
            self.status = dig(answer, report.status_field)
            if str(self.status) in report.done:
                return answer
            if str(self.status) in report.failed:
                message = dig(answer, report.message_field)
                msg = f"{self.where}: {self.job} failed with status {self.status!r}"
                raise ReportJobError(f"{msg}: {message}" if message else msg)
            wait = retry_after_seconds(response)
            wait = report.every if wait is None else wait
            if time.monotonic() + wait > deadline:
                msg = (f"{self.where}: {self.job} not done within report.poll.timeout = "
                       f"{report.timeout:g} s (last status: {self.status!r})")
                raise ReportJobError(msg)
            self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            with self.stream.answers.waiting_on_the_api():
                time.sleep(min(left, _WAIT_SLICE))

    def _download_urls(self, answer: Any, poll_url: str) -> list[str]:
        found = dig(answer, self.report.url_field)
        urls = found if isinstance(found, list) else [found]
        if not urls or not all(isinstance(url, str) and url for url in urls):
            msg = (f"{self.where}: {self.job} is done but report.download.url_field "
                   f"'{self.report.url_field}' holds no URL or list of URLs")
            raise ReportJobError(msg)
        return [urljoin(poll_url, url) for url in urls]

    def _file(self, url: str) -> Iterator[dict[str, Any]]:
        """One downloaded file's records, read with the stream's ``response`` settings."""
        stream = self.stream
        own_origin = origin_of(url) == origin_of(stream.settings.url)
        headers = (stream.planner.headers if own_origin
                   else {"Accept": stream.settings.response.accept})
        request = self._prepared(url, "GET", {}, None, headers)
        with stream.answers.waiting_on_the_api():
            response = stream.http.retrying(stream.answers.send_once)(request, self.context)
        yield from stream.reader.read(response).all_records()

    @property
    def _job_headers(self) -> dict[str, str]:
        """The create and poll requests' headers: JSON answers, then the configured ones."""
        return {"Accept": "application/json", **(self.stream.settings.headers or {})}

    def _prepared(self, url: str, method: str, params: dict[str, Any], body: Any,
                 headers: dict[str, str]) -> requests.PreparedRequest:
        return prepared(self.stream, HTTPRequest(url=url, method=method, params=dict(params),
                                                 headers=headers, data=body))

    def _json(self, request: requests.PreparedRequest) -> tuple[requests.Response, Any]:
        """Send a create or poll request (retried as any request) and decode its JSON."""
        stream = self.stream

        def once() -> requests.Response:
            response = stream.requests_session.send(
                stream.authenticator(request), timeout=stream.timeout)
            stream.http.check(response)
            return response

        with stream.answers.waiting_on_the_api():
            response = stream.http.retrying(once)()
        return response, decode_json(response.content)
