"""Guessing an operation's pagination from its query parameters, answer fields and headers.

Each guess carries its evidence, written as a comment beside the ``pagination`` block; when
the signs contradict each other or are incomplete, there is no pagination and a TODO naming
what was seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_connector.init.operations import Operation, Parameter
from rest_connector.init.schema import shape
from rest_connector.init.spec import Node

NEXT_LINK_FIELDS = ("next", "next_url", "nextUrl", "next_link", "nextLink", "next_page_url",
                    "nextPageUrl", "links.next", "_links.next.href", "links.next.href",
                    "@odata.nextLink", "odata.nextLink", "pagination.next", "meta.next",
                    "paging.next", "page.next", "pagination.next_url", "meta.pagination.next",
                    "pagination.links.next", "meta.next_url")
NEXT_CURSOR_FIELDS = ("next_cursor", "nextCursor", "next_marker", "nextMarker",
                      "next_page_token", "nextPageToken", "next_token", "nextToken", "cursor",
                      "next_page", "nextPage",
                      "paging.next.after", "paging.cursors.after", "meta.next_cursor",
                      "meta.after_cursor",
                      "response_metadata.next_cursor", "pagination.next_cursor",
                      "meta.pagination.next_cursor", "pagination.cursor", "page_info.end_cursor",
                      "pageInfo.endCursor", "after", "continuation", "continuationToken",
                      "scroll_id", "next")
CURSOR_PARAMS = ("cursor", "page_token", "pagetoken", "next_token", "nexttoken", "after",
                 "continuation", "continuationtoken", "page[cursor]", "page[after]",
                 "starting_after", "startingafter", "scroll_id", "marker")
MORE_FIELDS = ("has_more", "hasMore", "more", "has_next", "hasNext", "has_next_page",
               "hasNextPage", "page_info.has_next_page", "pageInfo.hasNextPage", "meta.has_more")
TOTAL_FIELDS = ("total", "total_count", "totalCount", "count", "total_results", "totalResults",
                "total_items", "totalItems", "meta.total", "meta.total_count",
                "meta.pagination.total", "pagination.total", "paging.total", "@odata.count",
                "page.totalElements", "totalElements", "hits.total")
OFFSET_PARAMS = ("offset", "skip", "$skip", "start", "startat", "start_at", "from")
LIMIT_PARAMS = ("limit", "per_page", "perpage", "page_size", "pagesize", "size", "count",
                "$top", "top", "maxresults", "max_results", "page[size]", "page[limit]",
                "results_per_page")
PAGE_PARAMS = ("page", "page_number", "pagenumber", "page[number]", "pageno", "p")
DEFAULT_PAGE_SIZE = 100
DOTTED = "dotted-name"
"""Marks a field whose own name holds a dot: a dot path cannot name it."""
_LARGEST_PAGE = 1000


@dataclass(frozen=True)
class Guess:
    """A pagination block (or None) and why."""

    block: dict[str, Any] | None
    evidence: str
    todo: str | None = None


def answer_fields(body: Node | None, skip: str | None, depth: int = 0, prefix: str = "",
                  dotted: bool = False) -> dict[str, frozenset[str]]:
    """Dot paths of the answer's fields (not inside the records) and their JSON types
    (``DOTTED`` added when a name on the way holds a dot)."""
    found: dict[str, frozenset[str]] = {}
    if body is None or depth > 3:
        return found
    for name, child in shape(body).properties.items():
        path = f"{prefix}{name}"
        if path == skip:
            continue
        child_shape = shape(child)
        here_dotted = dotted or "." in name
        found[path] = (child_shape.types | {f"format:{f}" for f in child_shape.formats}
                       | ({DOTTED} if here_dotted else set()))
        if child_shape.properties:
            found.update(answer_fields(child, skip, depth + 1, f"{path}.", here_dotted))
    return found


def _first(names: tuple[str, ...], available: dict[str, Any]) -> str | None:
    lowered = {k.lower(): k for k in available}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _default_page_size(parameter: Parameter | None) -> int:
    """The largest page the parameter allows, up to 1000; 100 when it says nothing."""
    if parameter is None or parameter.schema is None:
        return DEFAULT_PAGE_SIZE
    schema = parameter.schema.deref().value
    largest = schema.get("maximum") if isinstance(schema, dict) else None
    if isinstance(largest, int) and 0 < largest <= _LARGEST_PAGE:
        return largest
    return DEFAULT_PAGE_SIZE


def _is_link(path: str, types: frozenset[str]) -> bool:
    """A next-page field that holds a URL rather than a token."""
    if "format:uri" in types or "format:url" in types or "format:uri-reference" in types:
        return True
    leaf = path.rsplit(".", 1)[-1].lower()
    return "url" in leaf or "link" in leaf or leaf == "href" or path in (
        "links.next", "pagination.next", "meta.next", "paging.next", "page.next")


def _limit(block: dict[str, Any], query: dict[str, Parameter], limit: str | None) -> str:
    if limit is None:
        block["limit_param"] = None
        return "no page-size parameter"
    parameter = query[limit]
    block["limit_param"] = parameter.name
    block["page_size"] = _default_page_size(parameter)
    return f"page size parameter {parameter.name}"


def _with_total(block: dict[str, Any], fields: dict[str, frozenset[str]]) -> str:
    total = _first(TOTAL_FIELDS, {k: v for k, v in fields.items() if "integer" in v})
    if total is None:
        return ""
    block["total_field"] = total
    return f", total in '{total}'"


def guess_pagination(operation: Operation, fields: dict[str, frozenset[str]]) -> Guess:
    """The pagination an operation's parameters, answer fields and headers point to."""
    query = operation.query()
    limit = _first(LIMIT_PARAMS, query)
    more = _first(MORE_FIELDS, fields)
    if "starting_after" in query and more:
        block = {"type": "cursor", "cursor_from": "last_record", "cursor_field": "id",
                 "cursor_param": query["starting_after"].name, "stop_field": more}
        size = _limit(block, query, limit)
        return Guess(block, f"query parameter starting_after and '{more}' in the answer "
                            f"(the last record's id is the next cursor; {size})")
    scalars = {p: t for p, t in fields.items() if "object" not in t and "array" not in t}
    cursor_param = _first(CURSOR_PARAMS, query)
    cursor_field = _first(NEXT_CURSOR_FIELDS, {p: t for p, t in scalars.items()
                                               if not _is_link(p, t)}) if cursor_param else None
    if cursor_param and cursor_field:
        block = {"type": "cursor", "cursor_field": cursor_field,
                 "cursor_param": query[cursor_param].name}
        evidence = f"query parameter {query[cursor_param].name} and '{cursor_field}' in the answer"
        if more:
            block["stop_field"] = more
            evidence += f", '{more}' says when to stop"
        size = _limit(block, query, limit)
        return Guess(block, f"{evidence} ({size})")
    link = _first(NEXT_LINK_FIELDS, {p: t for p, t in scalars.items()
                                     if _is_link(p, t) or p == "next"})
    if link and DOTTED in fields[link]:
        return Guess(None, "", f"'{link}' holds the next page's URL, but a field whose name "
                               f"has a dot cannot be named by link_field yet (not built): one "
                               f"request")
    if link:
        return Guess({"type": "next_link", "link_field": link},
                     f"'{link}' in the answer holds the next page's URL")
    if "link" in operation.response_headers:
        return Guess({"type": "link_header"}, "the answer declares a Link header")
    offset = _first(OFFSET_PARAMS, query)
    if offset and limit:
        block = {"type": "offset", "offset_param": query[offset].name}
        size = _limit(block, query, limit)
        return Guess(block, f"query parameters {query[offset].name} and {query[limit].name} "
                            f"({size}{_with_total(block, fields)})")
    page = _first(PAGE_PARAMS, query)
    if page:
        block = {"type": "page", "page_param": query[page].name}
        size = _limit(block, query, limit)
        return Guess(block, f"query parameter {query[page].name} ({size}"
                            f"{_with_total(block, fields)})")
    seen = [query[n].name for n in (cursor_param, limit, offset) if n]
    seen += [f"'{f}' in the answer" for f in (more, cursor_field) if f]
    if seen:
        return Guess(None, "", f"pagination undecided: saw {', '.join(seen)} but not a "
                               f"complete style (see README 'Pagination')")
    return Guess(None, "no paging parameters, next-page fields or Link header in the spec: "
                       "one request")
