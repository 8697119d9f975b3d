"""Parent→child streams: a child is requested once per record of its parent stream.

``{parent.<dot path>}`` placeholders in a child's ``url``, ``params``, ``headers`` and ``body``
are filled from that parent record, and the parent fields listed in ``include_from_parent`` are
copied into every child record as ``_<parent>_<path with dots as underscores>``.

The same names key a child's context (what the SDK hands from parent to child): the placeholder
values, which are also what an incremental child's state is partitioned by.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from rest_api_core.config import SettingsProblem, did_you_mean
from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConnectorError

PLACEHOLDER = re.compile(r"\{parent\.([^{}]*)\}")
_DOT_PATH = re.compile(r"[^.\s{}]+(?:\.[^.\s{}]+)*")
_NESTING_TYPES = frozenset({"object", "array"})
_REQUEST_PARTS = ("url", "params", "headers", "body")

Path = tuple[str | int, ...]


class ParentFieldError(ConnectorError):
    """A parent record lacks the value one of its child's placeholders needs."""


def field_name(parent: str, dot_path: str) -> str:
    """``_repos_owner_login`` for ``owner.login`` of stream ``repos`` (dlt's convention)."""
    return f"_{parent}_{dot_path.replace('.', '_')}"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request_strings(stream: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every string of a stream's request settings that may hold placeholders, with its path."""
    url = stream.get("url")
    if isinstance(url, str):
        yield ("url",), url
    for part in ("params", "headers"):
        values = stream.get(part)
        if isinstance(values, dict):
            for key, value in values.items():
                items = value if isinstance(value, list) else [value]
                for position, item in enumerate(items):
                    if isinstance(item, str):
                        at = (part, key, position) if isinstance(value, list) else (part, key)
                        yield at, item
    yield from _body_strings(stream.get("body"), ("body",))
    report = stream.get("report")
    create = report.get("create") if isinstance(report, dict) else None
    if isinstance(create, dict):  # a report stream's first request
        for path, text in _request_strings(create):
            yield ("report", "create", *path), text


def _found_urls(stream: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """The stream's ``url`` and its report's ``create.url``, where given."""
    return [(path, text) for path, text in _request_strings(stream)
            if path in (("url",), ("report", "create", "url"))]


def _body_strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _body_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _body_strings(item, (*path, index))


@dataclass(frozen=True)
class ParentLink:
    """How one child stream is requested per parent record and what it takes from it."""

    child: str
    parent: str
    placeholders: tuple[str, ...]
    """Distinct dot paths of the placeholders, in order of appearance."""
    included: tuple[str, ...]
    """``include_from_parent``."""

    @classmethod
    def of(cls, stream: Mapping[str, Any]) -> ParentLink | None:
        """The link of a stream's settings, or None for a stream without ``parent``."""
        if not stream.get("parent"):
            return None
        paths = dict.fromkeys(match.group(1) for _, text in _request_strings(stream)
                              for match in PLACEHOLDER.finditer(text))
        included = stream.get("include_from_parent")
        included = [path for path in included if isinstance(path, str)] if isinstance(
            included, list) else []  # other types: the settings schema reports them
        return cls(stream.get("name", ""), stream["parent"], tuple(paths), tuple(included))

    @property
    def placeholder_fields(self) -> tuple[str, ...]:
        """The context keys: one per placeholder (an incremental child's state partition)."""
        return tuple(field_name(self.parent, path) for path in self.placeholders)

    @property
    def included_fields(self) -> tuple[str, ...]:
        """The names the included parent fields take in child records."""
        return tuple(field_name(self.parent, path) for path in self.included)

    def context(self, record: Mapping[str, Any], parent_keys: Sequence[str]) -> dict[str, Any]:
        """The placeholder values of one parent record; a missing or non-scalar one is an error
        naming the child stream, the placeholder and the parent record's primary key."""
        context: dict[str, Any] = {}
        for path in self.placeholders:
            value = dig(record, path)
            if value is None or isinstance(value, (dict, list)):
                problem = ("has no value (missing or null)" if value is None else
                           f"is {'an object' if isinstance(value, dict) else 'an array'}, "
                           "not a string, number or boolean")
                msg = (f"stream '{self.child}': placeholder {{parent.{path}}} {problem} in "
                       f"{_which_record(self.parent, record, parent_keys)}")
                raise ParentFieldError(msg)
            context[field_name(self.parent, path)] = value
        return context

    def included_values(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The ``include_from_parent`` fields of one parent record, under their child names."""
        return {field_name(self.parent, path): dig(record, path) for path in self.included}

    def _value_at(self, context: Mapping[str, Any], path: str) -> Any:
        return context[field_name(self.parent, path)]

    def fill_url(self, url: str, context: Mapping[str, Any]) -> str:
        """``url`` with each placeholder replaced by its value quoted as one path segment."""
        return PLACEHOLDER.sub(
            lambda m: quote(_as_text(self._value_at(context, m.group(1))), safe=""), url)

    def fill_text(self, text: str, context: Mapping[str, Any]) -> str:
        """``text`` with each placeholder replaced by its value."""
        return PLACEHOLDER.sub(lambda m: _as_text(self._value_at(context, m.group(1))), text)

    def fill_params(self, values: Mapping[str, Any], context: Mapping[str, Any]) -> dict:
        """Query parameters or headers with placeholders filled in their string values."""
        return {key: [self._fill_any(item, context) for item in value]
                if isinstance(value, list) else self._fill_any(value, context)
                for key, value in values.items()}

    def _fill_any(self, value: Any, context: Mapping[str, Any]) -> Any:
        return self.fill_text(value, context) if isinstance(value, str) else value

    def fill_body(self, value: Any, context: Mapping[str, Any]) -> Any:
        """A copy of the JSON body with its strings filled; a string that is exactly one
        placeholder takes the parent value with its JSON type."""
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            return self._value_at(context, whole.group(1)) if whole else self.fill_text(value,
                                                                                    context)
        if isinstance(value, dict):
            return {key: self.fill_body(item, context) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill_body(item, context) for item in value]
        return value


def _which_record(parent: str, record: Mapping[str, Any], keys: Sequence[str]) -> str:
    if not keys:
        return f"a record of parent stream '{parent}' (it has no primary_keys to name it by)"
    named = ", ".join(f"{key}={record.get(key)!r}" for key in keys)
    return f"the record {named} of parent stream '{parent}'"


# -- checks before any request -------------------------------------------------------------


def link_problems(streams: Sequence[Any]) -> list[SettingsProblem]:
    """Every parent→child mistake in a ``streams`` setting, each named by its path.

    Unknown parent, cycle, malformed placeholder, a placeholder or ``include_from_parent`` path
    that the parent's declared schema lacks, and more; the pipeline translator reports these
    with their YAML lines, the tap before any request.
    """
    by_name = {stream["name"]: stream for stream in streams
               if isinstance(stream, dict) and isinstance(stream.get("name"), str)}
    problems: list[SettingsProblem] = []
    for index, stream in enumerate(streams):
        if isinstance(stream, dict):
            problems += [SettingsProblem(("streams", index, *path), message)
                         for path, message in _stream_problems(stream, by_name)]
    problems += _cycles(streams, by_name)
    return problems


def _stream_problems(stream: dict, by_name: dict[str, dict]) -> Iterator[tuple[Path, str]]:
    parent = stream.get("parent")
    found: list[tuple[Path, str]] = []
    for path, text in _request_strings(stream):
        for match in PLACEHOLDER.finditer(text):
            found.append((path, match.group(1)))
            if not _DOT_PATH.fullmatch(match.group(1)):
                yield path, (f"{match.group(0)} is not a placeholder: expected "
                             "{parent.<dot path>}, such as {parent.id} or {parent.owner.login}")
            elif parent is None:
                yield path, (f"{match.group(0)} needs 'parent': the stream whose records fill "
                             "it")
    for path, text in _found_urls(stream):
        if PLACEHOLDER.search(urlsplit(text)._replace(path="", query="").geturl()):
            yield path, ("{parent.<path>} may fill the path and query of url, not its scheme, "
                         "host or port (credentials go only to the configured host)")
    included = stream.get("include_from_parent")
    if parent is None:
        if included:
            yield ("include_from_parent",), "needs 'parent': the stream to copy fields from"
        return
    if not isinstance(parent, str) or not isinstance(included or [], list):
        return  # the settings schema reports the type
    if parent not in by_name:
        yield ("parent",), (f"{parent!r} is not a stream of this config"
                            f"{did_you_mean(parent, by_name)}")
        return
    if not found:
        yield ("parent",), ("no {parent.<field>} placeholder in url, params, headers or body: "
                            f"every record of '{parent}' would send the same request")
    yield from _declared_field_problems(stream, by_name[parent], found)


def _declared_fields(stream: dict) -> dict[str, str] | None:
    """Declared field name → type name (a child's included fields too), or None if inferred."""
    fields = stream.get("schema")
    if not isinstance(fields, list):
        return None
    declared = {entry.get("name"): entry.get("type") for entry in fields if isinstance(entry, dict)}
    link = ParentLink.of(stream) if isinstance(stream.get("parent"), str) else None
    for name in link.included_fields if link else ():
        declared.setdefault(name, "included")
    return declared


def _declared_field_problems(
    stream: dict, parent: dict, placeholders: list[tuple[Path, str]]
) -> Iterator[tuple[Path, str]]:
    parent_fields = _declared_fields(parent)
    uses = [(path, dot_path, f"{{parent.{dot_path}}}") for path, dot_path in placeholders
            if _DOT_PATH.fullmatch(dot_path)]
    names: dict[str, str] = {}
    child_fields = _declared_fields(stream)
    for index, dot_path in enumerate(stream.get("include_from_parent") or []):
        at = ("include_from_parent", index)
        if not isinstance(dot_path, str) or not _DOT_PATH.fullmatch(dot_path):
            yield at, f"{dot_path!r} is not a dot path such as 'id' or 'owner.login'"
            continue
        name = field_name(stream["parent"], dot_path)
        if name in names:
            yield at, f"{dot_path!r} and {names[name]!r} would both be copied as {name!r}"
        names[name] = dot_path
        uses.append((at, dot_path, repr(dot_path)))
        if child_fields is not None and child_fields.get(name) == "included":
            reason = _untyped(dot_path, parent_fields, stream["parent"])
            if reason:
                yield at, f"{reason}: declare {name!r} in this stream's schema"
    if parent_fields is None:
        return
    for at, dot_path, shown in uses:
        top, _, rest = dot_path.partition(".")
        if top not in parent_fields:
            yield at, (f"{shown}: '{stream['parent']}' declares no field {top!r}"
                       f"{did_you_mean(top, [str(name) for name in parent_fields])}")
        elif rest and parent_fields[top] not in _NESTING_TYPES | {"included"}:
            yield at, (f"{shown}: '{stream['parent']}' declares {top!r} as "
                       f"{parent_fields[top]}, which has no field {rest!r}")


def _untyped(dot_path: str, parent_fields: dict[str, str] | None, parent: str) -> str | None:
    """Why a declared child cannot take the type of an included field from its parent."""
    if parent_fields is None:
        return f"'{parent}' infers its schema, so the type of {dot_path!r} is not known"
    top = dot_path.split(".")[0]
    if "." in dot_path and top in parent_fields:
        return f"'{parent}' declares the type of {top!r}, not of {dot_path!r}"
    return None


def _cycles(streams: Sequence[Any], by_name: dict[str, dict]) -> list[SettingsProblem]:
    problems = []
    reported: set[frozenset[str]] = set()
    for index, stream in enumerate(streams):
        if not isinstance(stream, dict) or not isinstance(stream.get("name"), str):
            continue
        chain = [stream["name"]]
        parent = stream.get("parent")
        while isinstance(parent, str) and parent in by_name and parent not in chain:
            chain.append(parent)
            parent = by_name[parent].get("parent")
        if parent == chain[0] and frozenset(chain) not in reported:
            reported.add(frozenset(chain))
            loop = " → ".join(f"'{name}'" for name in [*chain, chain[0]])
            problems.append(SettingsProblem(("streams", index, "parent"),
                                            f"{loop} is a cycle: a stream cannot be its own "
                                            "ancestor"))
    return problems
