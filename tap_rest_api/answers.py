"""Where the answer to a stream's request comes from: the page read for the schema sample, a
child's first request sent ahead, or a live request under the rate limit and retry policy.

Pages read ahead (``page_loop``) and children ahead (``children_ahead``) decode their answers in
worker threads with ``fetch_decoded``; the syncing thread takes them through here, so a stop
signal may end any wait for an answer, and only a wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests

from rest_api_core.http import describe
from tap_rest_api.children_ahead import RequestKey, request_key
from tap_rest_api.records import Page, PageReader
from tap_rest_api.sdk_seam import log_request_duration, tap_of

if TYPE_CHECKING:
    from tap_rest_api.children_ahead import ChildrenAhead
    from tap_rest_api.streams import RestApiStream

Send = Callable[[requests.PreparedRequest, Any], requests.Response]


class AnswerSources:
    """The answers of one stream, in the order they are tried: the sample's page (once, to the
    identical request), a child's first request sent ahead, then a live request."""

    def __init__(self, stream: RestApiStream) -> None:
        self.stream = stream
        self.sampling = False
        """The sample is being read: the sync has not begun (no state is read or written)."""
        self.children: ChildrenAhead | None = None
        self._sample_answer: tuple[RequestKey, requests.Response] | None = None

    @contextmanager
    def reading_sample(self) -> Iterator[None]:
        """Requests made meanwhile read the sample; its answer is kept for the sync."""
        self.sampling = True
        try:
            yield
        finally:
            self.sampling = False

    def was_sampled(self, prepared: requests.PreparedRequest) -> bool:
        """True if the sample already holds the answer to ``prepared``."""
        return self._sample_answer is not None and self._sample_answer[0] == request_key(prepared)

    def answer(self, prepared: requests.PreparedRequest, context: dict | None,
               send: Send) -> requests.Response:
        """The answer to ``prepared``: from the sample or a child's request sent ahead if
        either holds it, else ``send`` (a live request with retries)."""
        key = request_key(prepared)
        sample, self._sample_answer = self._sample_answer, None
        if sample is not None and sample[0] == key:
            return sample[1]
        found = (self.children.take(prepared, self.waiting_on_the_api)
                 if self.children is not None else None)
        if found is not None:
            response, page = found
            self.stream.reader.accept(response, page)
        else:
            with self.waiting_on_the_api():
                response = send(prepared, context)
        if self.sampling:
            self._sample_answer = (key, response)
        return response

    @contextmanager
    def waiting_on_the_api(self) -> Iterator[None]:
        """A wait for an answer: what was read goes out first, and a stop may end the wait."""
        tap = tap_of(self.stream)
        tap.message_writer.flush()
        with tap.stop_gate.waiting():
            yield

    def send_once(self, prepared: requests.PreparedRequest, context: dict | None
                  ) -> requests.Response:
        """One try of a live request, as the SDK's own request step: status checked and the
        body decoded into the stream's reader (an undecodable body is retried)."""
        response = self._sent(prepared, context)
        self.stream.validate_response(response)
        return response

    def fetch_decoded(self, reader: PageReader, context: dict | None,
                      prepared: requests.PreparedRequest, number: int
                      ) -> tuple[requests.Response, Page]:
        """One page read ahead, in a worker thread: rate limit, retries, status, decoding
        (an undecodable body is retried); nothing of the stream is changed."""

        def once() -> tuple[requests.Response, Page]:
            response = self._sent(prepared, context)
            self.check_status(response)
            return response, reader.decode(response, number)

        return self.stream.http.retrying(once)()

    def check_status(self, response: requests.Response) -> None:
        """Raise for a failing status or a ``retry``/``fail`` rule; log an ignored answer."""
        stream = self.stream
        ignored = stream.http.check(response)
        if ignored is not None:
            stream.logger.info("Stream '%s': HTTP %d for %s %s: 0 records from this request",
                               stream.name, response.status_code, describe(response),
                               ignored.why_empty)

    def _sent(self, prepared: requests.PreparedRequest, context: dict | None
              ) -> requests.Response:
        stream = self.stream
        response = stream.requests_session.send(
            stream.authenticator(prepared), timeout=stream.timeout,
            allow_redirects=stream.allow_redirects, stream=stream.settings.response.streamed)
        log_request_duration(stream, prepared, response, context)
        return response
