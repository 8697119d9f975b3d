"""What one page's request is: URL, headers, params and body as configured, a child's parent
values filled in, the window's bounds or the bookmark, then the page token."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_rest_api import windows
from tap_rest_api.instants import format_instant

if TYPE_CHECKING:
    from singer_sdk.streams import RESTStream

    from tap_rest_api.pagination import GuardedPaginator
    from tap_rest_api.settings import StreamSettings


class RequestPlanner:
    """Builds a stream's requests from its settings; knows nothing of answers or state (the
    caller hands it the bookmark to send)."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        incremental = settings.incremental
        self.end_sent = None
        """``incremental.end_param``'s value without a window: ``end_value`` or the run's
        start."""
        if incremental is not None and incremental.end_param and incremental.window is None:
            self.end_sent = incremental.end_value or format_instant(
                windows.run_end(None), "iso8601")

    @property
    def headers(self) -> dict[str, str]:
        """Configured headers (tap-level, then stream-level); ``Accept`` asks for the
        stream's ``response.format`` unless configured."""
        return {"Accept": self.settings.response.accept, **(self.settings.headers or {})}

    def url(self, context: dict | None) -> str:
        """The endpoint's URL as configured; a child's with the parent's values filled in."""
        link = self.settings.parent_link
        if link is None or context is None:
            return self.settings.url
        return link.fill_url(self.settings.url, context)

    def http_request(self, context: dict | None, token: Any,
                     paginator: GuardedPaginator | None, bookmark: Any,
                     window: windows.Window | None = None) -> HTTPRequest:
        """The request for the page at ``token``; ``bookmark`` is the stream's starting
        replication value (None: ``incremental.start_value``, if any); a windowed stream's
        ``window`` is sent instead."""
        request = HTTPRequest(
            url=self.url(context),
            method=self.settings.method,
            headers=self.headers,
            params=dict(self.settings.params or {}),
            data=copy.deepcopy(self.settings.body),
        )
        link = self.settings.parent_link
        if link is not None and context is not None:
            request.headers = link.fill_params(request.headers, context)
            request.params = link.fill_params(request.params, context)
            request.data = link.fill_body(request.data, context)
        if window is not None:
            self._add_window(request, window)
        else:
            self._add_bookmark(request, bookmark)
        if paginator is not None:
            paginator.update_request(request, token)
        return request

    def _add_window(self, request: HTTPRequest, window: windows.Window) -> None:
        settings = self.settings.incremental.window
        values = settings.values(window)
        request.url = windows.fill_text(request.url, values, quoted=True)
        request.headers = {key: windows.fill_text(value, values)
                           for key, value in request.headers.items()}
        request.params = windows.fill_any(request.params, values)
        request.data = windows.fill_any(request.data, values)
        for name, bound in ((settings.start_param, "start"), (settings.end_param, "end")):
            if name:
                request.params[name] = values[bound]

    def _add_bookmark(self, request: HTTPRequest, value: Any) -> None:
        incremental = self.settings.incremental
        if incremental is None:
            return
        if self.end_sent is not None:
            request.params[incremental.end_param] = self.end_sent
        if incremental.param is None:
            return
        if value is None:
            value = incremental.start_value
        if value is None:
            return
        pagination = self.settings.pagination
        if pagination is not None and pagination.cursor_in == "body":
            request.data = {**(request.data or {}), incremental.param: value}
        else:
            request.params[incremental.param] = value


def prepared(stream: RESTStream, request: HTTPRequest) -> requests.PreparedRequest:
    """``request`` prepared as the SDK's page loop prepares it (JSON body, the stream's session,
    user agent and authenticator), through its public ``build_prepared_request``."""
    return stream.build_prepared_request(
        method=request.method, url=request.url, params=request.encode_params(),
        headers=request.headers, json=request.data)
