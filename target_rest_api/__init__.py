"""target-rest-api: a Singer target that POSTs records in JSON batches.

Public name: ``TargetRestApi`` (the plugin class, loaded on first use: it imports singer-sdk).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TargetRestApi"]


def __getattr__(name: str) -> Any:
    if name == "TargetRestApi":
        from target_rest_api.target import TargetRestApi

        return TargetRestApi
    raise AttributeError(f"module 'target_rest_api' has no attribute {name!r}")
