"""XML: the elements at ``root_key`` are records, converted with xmltodict's conventions
(attributes under ``@name``, text beside them under ``#text``, repeated children as a list).

Parsed with defusedxml as the bytes arrive: a DTD (so any entity expansion, the billion laughs)
and external entities (XXE) are refused, never processed. Namespaces are dropped from names
(``{http://www.w3.org/2005/Atom}entry`` is ``entry``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from tap_rest_api.decoders.chunks import buffered
from tap_rest_api.decoders.errors import RecordDecodingError

logger = logging.getLogger("tap_rest_api.decoders")


@dataclass(frozen=True)
class XmlOptions:
    """A checked ``response.xml`` block."""

    attribute_prefix: str = "@"
    text_key: str = "#text"
    force_list: frozenset[str] = frozenset()


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class XmlDecoder:
    """Records from the elements at an element path (``feed.entry``: each ``entry`` child of
    the root ``feed``; none: each child of the root), each freed once converted."""

    def __init__(self, where: str, options: XmlOptions, root_key: str | None) -> None:
        self.where = where
        self.options = options
        self.path = root_key.split(".") if root_key else None

    def records(self, chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """The record elements' values, in document order."""
        opened: list[Element] = []
        names: list[str] = []
        root, found = None, 0
        try:
            for event, element in iterparse(buffered(chunks), events=("start", "end"),
                                            forbid_dtd=True, forbid_entities=True,
                                            forbid_external=True):
                if event == "start":
                    root = root if root is not None else _local(element.tag)
                    opened.append(element)
                    names.append(_local(element.tag))
                    continue
                if self._is_record(names):
                    found += 1
                    yield self._record(element)
                if len(opened) > 1 and not self._in_record(names):
                    opened[-2].remove(element)  # converted, or outside every record: freed
                opened.pop()
                names.pop()
        except DefusedXmlException as error:
            msg = (f"{self.where}: refused an XML document that declares a DTD, entities or "
                   f"external references ({type(error).__name__}): they can expand without "
                   "bound (billion laughs) or read local files (XXE), and are never processed")
            raise RecordDecodingError(msg) from None
        except ParseError as error:
            raise RecordDecodingError(f"{self.where}: not well-formed XML ({error})") from None
        if not found and self.path is not None and root is not None and root != self.path[0]:
            logger.warning("%s: response.root_key '%s' starts at <%s>, but the root element is "
                           "<%s>: 0 records", self.where, ".".join(self.path), self.path[0], root)

    def _is_record(self, names: list[str]) -> bool:
        if self.path is None:
            return len(names) == 2
        return names == self.path

    def _in_record(self, names: list[str]) -> bool:
        """True for an element inside a record (kept until the record is converted)."""
        if self.path is None:
            return len(names) > 2
        depth = len(self.path)
        return len(names) > depth and names[:depth] == self.path

    def _record(self, element: Element) -> dict[str, Any]:
        value = self._element_value(element)
        return value if isinstance(value, dict) else {self.options.text_key: value}

    def _element_value(self, element: Element) -> Any:
        """xmltodict's shape: text alone for a plain element, else a dict."""
        options = self.options
        result: dict[str, Any] = {f"{options.attribute_prefix}{_local(key)}": value
                                  for key, value in element.attrib.items()}
        for child in element:
            name = _local(child.tag)
            value = self._element_value(child)
            if name in result:
                held = result[name]
                result[name] = [*held, value] if isinstance(held, list) else [held, value]
            else:
                result[name] = [value] if name in options.force_list else value
        text = "".join([element.text or "", *(child.tail or "" for child in element)]).strip()
        if not result:
            return text or None
        if text:
            result[options.text_key] = text
        return result
