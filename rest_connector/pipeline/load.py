"""Loading pipeline YAML safely: no duplicate keys, anchors, aliases or non-standard tags.

Besides the data, the loader remembers the line of every value and the original text of every
unquoted scalar that YAML 1.1 turned into something other than a string (``NO`` → false,
``012345`` → 5349, ``2025-01-01`` → a date), so later checks can point at the line and suggest
quoting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from rest_connector.pipeline.problems import PipelineError, PipelineProblem, YamlPath

_CORE = "tag:yaml.org,2002:"
STANDARD_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)


@dataclass
class LoadedYaml:
    """A YAML document as plain data, with where each value came from."""

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    plain_scalars: dict[YamlPath, str] = field(default_factory=dict)
    """Original text of unquoted scalars that YAML read as a non-string (bool, number, date)."""

    def line_of(self, path: YamlPath) -> int | None:
        """Line of the value at ``path``, or of its closest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def raw(self, path: YamlPath) -> Any:
        """The value at ``path`` as written in the file, or None when absent."""
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


class _AnchorRejectingLoader(yaml.SafeLoader):
    """A safe loader that records the line of every anchor and alias while composing.

    Composing shares an aliased node instead of copying it, so it stays linear in the size of
    the text; only building data from the nodes would expand nested aliases ("billion laughs").
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchor_lines: list[int] = []

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            self.anchor_lines.append(event.start_mark.line + 1)
        return super().compose_node(parent, index)


class _Builder:
    """Turns a composed node tree into plain data, collecting problems and positions."""

    def __init__(self, loader: _AnchorRejectingLoader) -> None:
        self.loader = loader
        self.result = LoadedYaml(data=None)
        self.problems: list[PipelineProblem] = []

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        line = node.start_mark.line + 1
        self.result.lines[path] = line
        if node.tag not in STANDARD_TAGS:
            self.problems.append(PipelineProblem(
                path, line, f"the YAML tag {node.tag!r} is not supported: use plain values"))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if node.style is None and value is not None and not isinstance(value, str):
            self.result.plain_scalars[path] = node.value
        return value

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self.build(key_node, (*path, "<key>")) if key_node.tag in STANDARD_TAGS else None
            if not isinstance(key, str):
                self.problems.append(PipelineProblem(
                    path, line, f"the key {key_node.value!r} is not a string: quote it "
                                f"(\"{key_node.value}\")"))
                continue
            if key in first_lines:
                self.problems.append(PipelineProblem(
                    (*path, key), line, f"duplicate key {key!r} (first defined on line "
                                        f"{first_lines[key]}); each key may appear once"))
                continue
            first_lines[key] = line
            mapping[key] = self.build(value_node, (*path, key))
            self.result.lines[(*path, key)] = line  # the key's line reads best for blocks
        self.result.lines.pop((*path, "<key>"), None)
        self.result.plain_scalars.pop((*path, "<key>"), None)
        return mapping


def load_yaml(text: str, source: str = "<pipeline>") -> LoadedYaml:
    """Parse one YAML document; raise ``PipelineError`` listing every structural problem."""
    loader = _AnchorRejectingLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = error.problem or error.context or "invalid YAML"
        problem = PipelineProblem((), line, f"invalid YAML: {reason}")
        raise PipelineError(source, [problem]) from None
    except yaml.YAMLError as error:
        problem = PipelineProblem((), None, f"invalid YAML: {error}")
        raise PipelineError(source, [problem]) from None
    finally:
        loader.dispose()
    if loader.anchor_lines:  # refused before building: aliases would expand exponentially
        raise PipelineError(source, [
            PipelineProblem((), line, "anchors and aliases (&name, *name) are not supported: "
                                      "write the value out in full")
            for line in sorted(set(loader.anchor_lines))
        ])
    builder = _Builder(loader)
    builder.result.data = builder.build(root, ()) if root is not None else None
    if builder.problems:
        raise PipelineError(source, sorted(builder.problems, key=lambda p: p.line or 0))
    return builder.result
