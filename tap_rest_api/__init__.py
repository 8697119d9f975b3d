"""tap-rest-api: a Singer tap for any REST endpoint its settings describe.

Public names: ``TapRestApi`` (the plugin class, loaded on first use: it imports singer-sdk) and
``link_problems`` (the parent → child checks) and ``response_problems`` (the ``response``
format and ``report`` checks), which the pipeline app reuses on its YAML.
"""

from __future__ import annotations

from typing import Any

from tap_rest_api.parents import link_problems
from tap_rest_api.report_settings import response_problems

__all__ = ["TapRestApi", "link_problems", "response_problems"]


def __getattr__(name: str) -> Any:
    if name == "TapRestApi":  # singer-sdk's start-up only for those who run the tap
        from tap_rest_api.tap import TapRestApi

        return TapRestApi
    raise AttributeError(f"module 'tap_rest_api' has no attribute {name!r}")
