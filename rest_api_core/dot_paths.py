"""Dot paths (``a.b.0.c``) into decoded JSON: the settings name fields of responses this way.

Kept apart from the HTTP code so that settings checks (the pipeline translator) can use it
without importing ``requests``.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def dig(document: Any, dot_path: str, default: Any = None) -> Any:
    """The value at ``a.b.0.c`` in nested objects and lists, or ``default``."""
    value = document
    for part in dot_path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(
            part
        ) < len(value):
            value = value[int(part)]
        else:
            return default
        if value is _MISSING:
            return default
    return value
