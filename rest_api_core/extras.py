"""Optional dependency groups ("extras"): a plugin whose extra is not installed says which one
to install, in one line, instead of failing with an import traceback."""

from __future__ import annotations

import importlib.util

from rest_api_core.errors import ConnectorError

DISTRIBUTION = "rest-api-connector"


class MissingExtraError(ConnectorError):
    """An optional dependency group the feature needs is not installed."""


def require_extra(extra: str, modules: tuple[str, ...], needed_by: str) -> None:
    """Raise ``MissingExtraError`` unless every module of ``modules`` can be imported (looked
    up, not imported: the caller imports what it uses)."""
    missing = [name for name in modules if not _installed(name)]
    if missing:
        msg = (f"{needed_by} needs the '{extra}' extra ({', '.join(missing)} not installed): "
               f"pip install '{DISTRIBUTION}[{extra}]'")
        raise MissingExtraError(msg)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: set to None in sys.modules (blocked)
        return False
