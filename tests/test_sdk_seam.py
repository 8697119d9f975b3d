"""One seam to singer-sdk: private SDK names are used only in the seam modules, every name a
seam uses is guarded by ``test_sdk_private_hooks.py``, and the tap's locked state methods are
every SDK method that reaches the state.

A private SDK name is any single-underscore name that singer-sdk defines on the classes our
plugins subclass (methods, class and instance attributes), or any import from a private SDK
module (``singer_sdk.helpers._batch``).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from singer_sdk import Stream, Tap, Target
from singer_sdk.pagination import (
    BaseHATEOASPaginator,
    HeaderLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
)
from singer_sdk.sinks import BatchSink
from singer_sdk.streams.rest import RESTStream

from tap_rest_api import sdk_seam
from tap_rest_api.batch_path import BatchPath
from tap_rest_api.streams import RestApiStream
from tests.test_sdk_private_hooks import ATTRIBUTES, HOOKS, MODULE_NAMES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rest_api_core", "tap_rest_api", "target_rest_api", "target_delta",
            "spark_rest_api", "rest_connector")
SEAMS = {"rest_api_core/sdk_seam.py", "tap_rest_api/sdk_seam.py"}
"""The tap's seam, and the core's for the targets (and the shared settings and shutdown)."""
SUBCLASSED = (RESTStream, Tap, Target, BatchSink, OffsetPaginator, PageNumberPaginator,
              BaseHATEOASPaginator, HeaderLinkPaginator)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def sdk_private_names() -> set[str]:
    """Every private name singer-sdk defines on the classes we subclass (their whole MRO)."""
    names: set[str] = set()
    for cls in SUBCLASSED:
        for owner in inspect.getmro(cls):
            if not owner.__module__.startswith("singer_sdk"):
                continue
            names |= {name for name in vars(owner) if _private(name)}
            tree = ast.parse(textwrap.dedent(inspect.getsource(owner)))
            names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                      and isinstance(node.value, ast.Name) and node.value.id == "self"
                      and _private(node.attr)}
    return names - {"_abc_impl"}


SDK_PRIVATE = sdk_private_names()


def private_uses(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every private SDK name ``path`` uses, defines or imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in SDK_PRIVATE:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.FunctionDef) and node.name in SDK_PRIVATE:
            found.append((node.lineno, node.name))
        elif (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk")
              and any(_private(part) for part in node.module.split("."))):
            found.append((node.lineno, node.module))
    return found


def test_private_sdk_names_are_used_only_in_the_seams():
    outside = [f"{path.relative_to(ROOT)}:{line} {name}"
               for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
               if str(path.relative_to(ROOT)) not in SEAMS
               for line, name in private_uses(path)]
    assert outside == []


@pytest.mark.parametrize("seam", sorted(SEAMS))
def test_every_name_a_seam_uses_is_guarded(seam):
    path = ROOT / seam
    guarded = ({name for _, name, _ in HOOKS} | {name for _, name in ATTRIBUTES}
               | {module for module, _ in MODULE_NAMES})
    used = {name for _, name in private_uses(path)}
    assert used - guarded == set()


def test_the_locked_state_methods_are_every_sdk_method_that_reaches_the_state():
    """An SDK upgrade that adds a method touching the state fails here until it is locked or
    said to need no lock (``sdk_seam.UNLOCKED_STATE_METHODS``)."""
    words = ("tap_state", "state_manager", "stream_state", "get_context_state")
    reaching = set()
    for cls in (Stream, RESTStream):
        for name, member in vars(cls).items():
            function = member.fget if isinstance(member, property) else member
            if callable(function) and any(w in inspect.getsource(function) for w in words):
                reaching.add(name)
    handled = (set(sdk_seam.LOCKED_STATE_METHODS) | set(sdk_seam.LOCKED_BY_THEIR_OWNER)
               | set(sdk_seam.UNLOCKED_STATE_METHODS))
    assert reaching == handled


@pytest.mark.parametrize("name", sdk_seam.LOCKED_STATE_METHODS)
def test_each_locked_state_method_holds_the_output_lock(name):
    member = inspect.getattr_static(RestApiStream, name)
    function = member.fget if isinstance(member, property) else member
    assert getattr(function, "under_output_lock", False), name


def test_the_state_methods_locked_by_their_owner_are_replaced_or_called_under_the_lock():
    """``SeamStream`` replaces them (its collaborators lock), but for the BATCH message, which
    our code writes only under the output lock (and the SDK while ``BatchPath`` holds it)."""
    replaced = {name for name in sdk_seam.LOCKED_BY_THEIR_OWNER
                if name in vars(sdk_seam.SeamStream)}
    assert set(sdk_seam.LOCKED_BY_THEIR_OWNER) - replaced == {"_write_batch_message"}
    source = inspect.getsource(BatchPath.schema_changed)
    assert source.index("message_writer.lock") < source.index("write_batch_message(")
