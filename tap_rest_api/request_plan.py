"""What one page's request is: URL, headers, params and body as configured, a child's parent
values filled in, the bookmark, then the page token."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.streams.rest import HTTPRequest

if TYPE_CHECKING:
    from singer_sdk.streams import RESTStream

    from tap_rest_api.pagination import GuardedPaginator
    from tap_rest_api.settings import StreamSettings


class RequestPlanner:
    """Builds a stream's requests from its settings; knows nothing of answers or state (the
    caller hands it the bookmark to send)."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings

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
                     paginator: GuardedPaginator | None, bookmark: Any) -> HTTPRequest:
        """The request for the page at ``token``; ``bookmark`` is the stream's starting
        replication value (None: ``incremental.start_value``, if any)."""
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
        self._add_bookmark(request, bookmark)
        if paginator is not None:
            paginator.update_request(request, token)
        return request

    def _add_bookmark(self, request: HTTPRequest, value: Any) -> None:
        incremental = self.settings.incremental
        if incremental is None:
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
