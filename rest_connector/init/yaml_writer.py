"""Writing the pipeline YAML with comments above the keys they explain.

PyYAML cannot write comments, so this small writer emits block mappings itself and leaves
each scalar to ``json.dumps`` (a JSON string is a valid YAML double-quoted scalar, so no
value is ever read back as another type: ``"NO"`` stays text). Short lists of scalars and
``schema:`` entries go on one line each, in flow style.
"""

from __future__ import annotations

import json
import re
from typing import Any

Path = tuple[str, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_PLAIN_TEXT = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) and key.lower() not in _YAML11_WORDS else json.dumps(key)


def scalar(value: Any) -> str:
    """A scalar as YAML: plain where that is unambiguous text, JSON otherwise."""
    if isinstance(value, str) and _PLAIN_TEXT.match(value) and value.lower() not in _YAML11_WORDS:
        return value
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value)


def _is_flat(value: list) -> bool:
    return all(not isinstance(v, (dict, list)) for v in value)


def _emit(value: dict, path: Path, indent: int, comments: dict[Path, list[str]],
          lines: list[str]) -> None:
    pad = " " * indent
    for key, child in value.items():
        here = (*path, key)
        lines.extend(f"{pad}# {text}" for text in comments.get(here, ()))
        if isinstance(child, dict) and child:
            lines.append(f"{pad}{_key(key)}:")
            _emit(child, here, indent + 2, comments, lines)
        elif isinstance(child, list) and child and not _is_flat(child):
            lines.append(f"{pad}{_key(key)}:")
            lines.extend(f"{pad}  - {_flow(item)}" for item in child)
        else:
            lines.append(f"{pad}{_key(key)}: {_flow(child)}")


def write_yaml(document: dict, comments: dict[Path, list[str]], header: list[str]) -> str:
    """The document as YAML text, ``header`` lines first, each comment above its key."""
    lines = [f"# {text}" if text else "#" for text in header]
    _emit(document, (), 0, comments, lines)
    return "\n".join(lines) + "\n"
