"""Reading an OpenAPI 3.0/3.1 or Swagger 2.0 document, and following its ``$ref``s.

The document is parsed once (JSON, or YAML with libyaml when present); ``$ref``s are followed
lazily, only where the generator looks, by ``referencing`` (the resolver jsonschema uses), so a
10 MB spec with thousands of operations is never expanded in full. A ``$ref`` into another file
beside the spec (``schemas/customer.yaml#/Customer``) is read from that file or URL on first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import yaml
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from rest_api_core.errors import ConnectorError

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_REF_HOPS = 50
FETCH_TIMEOUT = 60
METHODS_WITH_RECORDS = ("get",)


class SpecError(ConnectorError):
    """The spec cannot be read or is not an OpenAPI/Swagger document."""


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def _parse(text: str, where: str) -> Any:
    """JSON when it looks like JSON (much faster), YAML otherwise."""
    try:
        if text.lstrip().startswith(("{", "[")):
            return json.loads(text)
        return yaml.load(text, Loader=_YamlLoader)  # a safe loader
    except (ValueError, yaml.YAMLError) as error:
        raise SpecError(f"{where}: neither JSON nor YAML ({error})") from None


def read_document(uri: str) -> Any:
    """The parsed text at ``uri`` (``file://`` or ``http(s)://``)."""
    if _is_url(uri):
        try:
            response = requests.get(uri, timeout=FETCH_TIMEOUT,
                                    headers={"Accept": "application/json, application/yaml"})
        except requests.RequestException as error:
            raise SpecError(f"{uri}: cannot fetch ({type(error).__name__})") from None
        if response.status_code != 200:
            raise SpecError(f"{uri}: HTTP {response.status_code}")
        return _parse(response.text, uri)
    path = Path(urlsplit(uri).path)
    try:
        return _parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise SpecError(f"{path}: cannot read ({error.strerror})") from None


def _retrieve(uri: str) -> Resource:
    return Resource.opaque(read_document(uri))


def _document_uri(source: str) -> str:
    return source if _is_url(source) else Path(source).resolve().as_uri()


def _why(error: BaseException) -> str:
    """What the spec error behind an unresolvable ``$ref`` says (a file that cannot be read),
    else that the pointer leads nowhere."""
    while error.__cause__ is not None:
        error = error.__cause__
        if isinstance(error, SpecError):
            return str(error)
    return "no such place in the document"


@dataclass(frozen=True)
class Node:
    """A value of the spec with the resolver that knows the file it came from (a ``$ref``
    inside a file beside the spec is relative to that file)."""

    value: Any
    resolver: Any

    def deref(self) -> Node:
        """This value with any ``$ref`` chain followed."""
        node = self
        for _ in range(_MAX_REF_HOPS):
            if not (isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str)):
                return node
            ref = node.value["$ref"]
            try:
                resolved = node.resolver.lookup(ref)
            except Unresolvable as error:
                raise SpecError(f"$ref {ref!r} cannot be resolved: {_why(error)}") from None
            node = Node(resolved.contents, resolved.resolver)
        raise SpecError(f"$ref chain longer than {_MAX_REF_HOPS} hops at {self.value['$ref']!r}")

    def get(self, key: str) -> Node | None:
        """The child ``key`` of this (dereferenced) object, dereferenced; None when absent."""
        here = self.deref()
        if not isinstance(here.value, dict) or key not in here.value:
            return None
        return Node(here.value[key], here.resolver).deref()

    def items(self) -> Iterator[tuple[str, Node]]:
        """``(key, child)`` pairs of an object, children dereferenced."""
        here = self.deref()
        if isinstance(here.value, dict):
            for key, value in here.value.items():
                yield str(key), Node(value, here.resolver).deref()

    def elements(self) -> Iterator[Node]:
        """The items of a list, dereferenced."""
        here = self.deref()
        if isinstance(here.value, list):
            for value in here.value:
                yield Node(value, here.resolver).deref()

    def text(self, key: str, default: str = "") -> str:
        """A string child, or ``default``."""
        child = self.get(key)
        return child.value if child is not None and isinstance(child.value, str) else default


@dataclass(frozen=True)
class Spec:
    """A loaded OpenAPI or Swagger document."""

    source: str
    uri: str
    root: Node
    version: str
    """``"2.0"``, ``"3.0"`` or ``"3.1"``."""

    @property
    def swagger(self) -> bool:
        """A Swagger 2.0 document (other places for schemas, security and servers)."""
        return self.version == "2.0"

    @property
    def title(self) -> str:
        """The API's title (``info.title``)."""
        info = self.root.get("info")
        return info.text("title") if info is not None else ""


def load_spec(source: str) -> Spec:
    """Read ``source`` (a file or URL) as OpenAPI 3.x or Swagger 2.0."""
    uri = _document_uri(source)
    document = read_document(uri)
    if not isinstance(document, dict):
        raise SpecError(f"{source}: not an OpenAPI document (expected an object at the top)")
    declared = str(document.get("openapi") or document.get("swagger") or "")
    if declared.startswith("2."):
        version = "2.0"
    elif declared.startswith("3.0"):
        version = "3.0"
    elif declared.startswith("3."):
        version = "3.1"
    else:
        raise SpecError(f"{source}: neither 'openapi: 3.x' nor 'swagger: 2.0' at the top "
                        f"(found {declared or 'neither key'})")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{source}: no 'paths' object")
    registry = Registry(retrieve=_retrieve).with_resource(uri, Resource.opaque(document))
    return Spec(source, uri, Node(document, registry.resolver(base_uri=uri)), version)


def relative_to_spec(spec: Spec, url: str) -> str:
    """A server URL as written, resolved against the spec's own URL when relative."""
    if urlsplit(url).scheme or not _is_url(spec.uri):
        return url
    return urljoin(spec.uri, url)
