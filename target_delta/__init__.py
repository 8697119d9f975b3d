"""target-delta: a Singer target writing Delta Lake tables with delta-rs (the ``delta`` extra).

Public names: ``cli`` (the executable), ``TargetDelta`` (the plugin class), ``TablePaths``
(where each stream's table goes, which the Spark engine follows too) and ``maintain_tables``
(compaction and vacuum on demand).
"""

from __future__ import annotations

import sys
from typing import Any

from rest_api_core.extras import MissingExtraError, require_extra
from target_delta.storage import TablePaths

__all__ = ["TablePaths", "TargetDelta", "cli", "maintain_tables"]

EXTRA_MODULES = ("deltalake", "pyarrow")


def cli() -> None:
    """``target-delta``: the plugin's command line, once its extra is known to be installed."""
    try:
        require_extra("delta", EXTRA_MODULES, "target-delta")
    except MissingExtraError as error:
        sys.exit(f"target-delta: {error}")
    from target_delta.target import TargetDelta

    TargetDelta.cli()


def __getattr__(name: str) -> Any:
    if name == "TargetDelta":
        require_extra("delta", EXTRA_MODULES, "target-delta")
        from target_delta.target import TargetDelta

        return TargetDelta
    if name == "maintain_tables":
        require_extra("delta", EXTRA_MODULES, "rest-connector maintain")
        from target_delta.on_demand import maintain_tables

        return maintain_tables
    raise AttributeError(f"module 'target_delta' has no attribute {name!r}")
