"""``rest-connector init --url``: one input written from what the API answers (two requests at
most: the URL, then the second page the first answer points to, to confirm the guess).

Header values and credentials in the URL's query are secrets: registered with the redactor at
once, never printed or written; the file reads them from environment variables.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConnectorError
from rest_api_core.http import ConnectorSession, body_excerpt, describe
from rest_api_core.redact import SECRETS
from rest_connector.init.auth import env_prefix, env_with_default, placeholder
from rest_connector.init.draft import Draft, InitResult, output_block
from rest_connector.init.endpoints import stream_name
from rest_connector.init.sample_guess import find_root_key, infer_fields, paging_signs
from rest_connector.init.yaml_writer import write_yaml

SAMPLE_TIMEOUT = 30
_SECRET_NAME = re.compile(r"key|token|secret|password|auth|signature|appid|sig$", re.I)
_LOCAL_WORDS = {"api", "www", "com", "org", "net", "io", "co", "dev", "app", "localhost"}


@dataclass
class Sample:
    """The request being built, and the answers read."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]
    session: ConnectorSession

    def get(self, extra: dict[str, str] | None = None) -> tuple[requests.Response, Any]:
        """GET the URL with its parameters and ``extra``: the answer and its decoded JSON."""
        try:
            response = self.session.get(self.url, headers=self.headers,
                                        params={**self.params, **(extra or {})},
                                        timeout=SAMPLE_TIMEOUT)
        except requests.RequestException as error:
            raise ConnectorError(f"GET {SECRETS.redact(urlsplit(self.url).path)}: "
                                 f"{type(error).__name__}") from None
        if response.status_code != 200:
            message = " ".join(body_excerpt(response).split())  # on one line
            raise ConnectorError(f"{describe(response)}: HTTP {response.status_code}: {message}")
        try:
            return response, response.json()
        except ValueError:
            raise ConnectorError(f"{describe(response)}: the answer is not JSON") from None


def _prefix(url: str) -> str:
    host = urlsplit(url).hostname or ""
    words = [w for w in host.split(".") if w and not w.isdigit() and w not in _LOCAL_WORDS]
    return env_prefix(" ".join(words[-1:]) if words else "")


def _headers(given: Sequence[str], prefix: str, draft: Draft) -> tuple[dict, dict, dict | None]:
    """(headers to send, headers to write as placeholders, auth block) from ``Name: value``."""
    sent, written, auth = {}, {}, None
    for text in given:
        name, colon, value = text.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name:
            raise ConnectorError(f"--header {name or '?'}: expected 'Name: value'")
        SECRETS.add(value, *value.split())  # "Bearer <token>": the token alone too
        sent[name] = value
        scheme, _, credential = value.partition(" ")
        if name.lower() == "authorization" and scheme.lower() == "bearer":
            auth = {"type": "bearer", "token": placeholder(f"{prefix}_TOKEN")}
            draft.needs([f"{prefix}_TOKEN"])
        elif name.lower() == "authorization" and scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ConnectorError("--header Authorization: not valid basic auth") from None
            SECRETS.add_basic_auth(user, password)
            names = [f"{prefix}_USERNAME", f"{prefix}_PASSWORD"]
            auth = {"type": "basic", "username": placeholder(names[0]),
                    "password": placeholder(names[1])}
            draft.needs(names)
        elif _SECRET_NAME.search(name) and auth is None:
            auth = {"type": "api_key", "header": name, "key": placeholder(f"{prefix}_API_KEY")}
            draft.needs([f"{prefix}_API_KEY"])
        else:
            variable = f"{prefix}_{re.sub(r'[^A-Za-z0-9]+', '_', name).upper()}"
            written[name] = placeholder(variable)
            draft.needs([variable])
    return sent, written, auth


def _query(url: str, prefix: str, draft: Draft) -> tuple[dict[str, str], dict | None]:
    """The URL's query parameters; one named like a credential becomes api-key auth."""
    params, auth = {}, None
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if _SECRET_NAME.search(name) and auth is None:
            SECRETS.add(value)
            auth = {"type": "api_key", "param": name, "key": placeholder(f"{prefix}_API_KEY")}
            draft.needs([f"{prefix}_API_KEY"])
        params[name] = value
    return params, auth


def _ids(records: list[dict]) -> list:
    return [r.get("id", r) for r in records]


def _confirm(sample: Sample, first: list[dict], extra: dict[str, str]) -> bool:
    """Whether the second page (asked with ``extra``) holds other records."""
    _, body = sample.get(extra)
    found = find_root_key(body)
    return found is not None and bool(found[1]) and _ids(found[1]) != _ids(first)


def _pagination(sample: Sample, response: requests.Response, body: Any, root_key: str | None,
                records: list[dict]) -> tuple[dict | None, str, str | None]:
    """(pagination block, evidence, TODO) from the first answer, confirmed by a second."""
    signs = paging_signs(body, root_key)
    if "next" in response.links:
        return {"type": "link_header"}, "the answer has a Link: rel=\"next\" header", None
    if signs.next_link:
        return ({"type": "next_link", "link_field": signs.next_link},
                f"'{signs.next_link}' in the answer holds the next page's URL", None)
    if signs.cursor_field:
        block = {"type": "cursor", "cursor_field": signs.cursor_field,
                 "cursor_param": signs.cursor_param}
        if signs.more_field:
            block["stop_field"] = signs.more_field
        value = str(dig(body, signs.cursor_field))
        if _confirm(sample, records, {signs.cursor_param: value}):
            return block, (f"'{signs.cursor_field}' in the answer, sent back as "
                           f"{signs.cursor_param}, gave the next records"), None
        return None, "", (f"'{signs.cursor_field}' looks like a cursor, but sent back as "
                          f"{signs.cursor_param} it gave the same records: set cursor_param")
    if signs.more_field and dig(body, signs.more_field) and records and "id" in records[-1]:
        last = str(records[-1]["id"])
        if _confirm(sample, records, {"starting_after": last}):
            return ({"type": "cursor", "cursor_from": "last_record", "cursor_field": "id",
                     "cursor_param": "starting_after", "stop_field": signs.more_field},
                    f"'{signs.more_field}' is true, and starting_after=<last id> gave the "
                    f"next records", None)
    if signs.total_field and signs.total and signs.total > len(records):
        size = str(len(records))
        if _confirm(sample, records, {"offset": size, "limit": size}):
            return ({"type": "offset", "page_size": len(records),
                     "total_field": signs.total_field},
                    f"'{signs.total_field}' ({signs.total}) is more than the {size} records, "
                    f"and offset={size}&limit={size} gave the next ones", None)
        return None, "", (f"'{signs.total_field}' ({signs.total}) is more than the {size} "
                          f"records, but offset/limit did not page: see README 'Pagination'")
    return None, "no Link header, next-page field, cursor or total in the answer: one request", \
        None


def init_from_url(url: str, header_args: Sequence[str], *, delta_path: str) -> InitResult:
    """Request ``url`` (and one more page at most) and write one input for it."""
    draft = Draft()
    prefix = _prefix(url)
    base_name = f"{prefix}_BASE_URL"
    draft.needs([base_name])
    sent, written_headers, header_auth = _headers(header_args, prefix, draft)
    params, query_auth = _query(url, prefix, draft)
    auth = header_auth or query_auth
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    sample = Sample(f"{origin}{parts.path}", params, sent, ConnectorSession())
    response, body = sample.get()
    found = find_root_key(body)
    if found is None:
        raise ConnectorError(f"{describe(response)}: the answer holds no records (a JSON "
                             f"object or an array of objects was expected)")
    root_key, records = found
    name = stream_name(parts.path, set())
    where = ("CONFIG", "inputs", name)
    block: dict[str, Any] = {"format": "rest_api",
                             "url": env_with_default(base_name, origin) + parts.path}
    draft.note(where, f"from GET {parts.path}: {len(records)} records in the first answer")
    if written_headers:
        block["headers"] = written_headers
    if auth is not None:
        block["auth"] = auth
        draft.note((*where, "auth"), "from the credentials given; the file reads them from "
                                     "the environment")
    if auth is query_auth and query_auth is not None:
        params.pop(query_auth["param"])
    pagination, evidence, todo = _pagination(sample, response, body, root_key, records)
    for param in ("offset", "limit") if pagination and pagination["type"] == "offset" else ():
        params.pop(param, None)
    if params:
        block["params"] = params
    if pagination is not None:
        block["pagination"] = pagination
        draft.note((*where, "pagination"), f"guessed: {evidence}")
    else:
        draft.note((*where, "url"), f"TODO: {todo}" if todo else evidence)
        draft.todos += todo is not None
    if root_key:
        block["response"] = {"root_key": root_key}
        draft.note((*where, "response"), f"'{root_key}' is the largest array of objects")
    if records and all("id" in r for r in records):
        block["primary_keys"] = ["id"]
    block["schema"] = infer_fields(records)
    draft.note((*where, "schema"), f"inferred from {len(records)} sample records: check the "
                                   f"types of fields that were null or missing")
    draft.inputs[name] = block
    document = output_block(draft, delta_path)
    header = [f"Written by `rest-connector init --url` from GET {parts.path} on {origin}.",
              f"Set before validate/run: {', '.join(draft.env)}."]
    text = write_yaml(document, draft.comments, header)
    return InitResult(text, [name], [], 0, draft.env, draft.todos)
