"""Plugins set their imported objects aside from the garbage collector as their CLI starts."""

from __future__ import annotations

import gc

import pytest

from rest_api_core.startup import FreezesImportsMixin
from tap_rest_api.tap import TapRestApi
from target_delta.target import TargetDelta
from target_rest_api.target import TargetRestApi


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_invoke_freezes_what_exists_then_runs_the_cli(unfrozen):
    seen: list[int] = []

    class Plugin:
        @classmethod
        def invoke(cls, *args: object, **kwargs: object) -> None:
            seen.append(gc.get_freeze_count())

    class Frozen(FreezesImportsMixin, Plugin):
        pass

    assert gc.get_freeze_count() == 0
    Frozen.invoke()
    assert seen and seen[0] > 10_000  # the modules imported by this test run, at least


@pytest.mark.parametrize("plugin", [TapRestApi, TargetDelta, TargetRestApi])
def test_every_plugin_freezes_first(plugin):
    assert plugin.__mro__.index(FreezesImportsMixin) < plugin.__mro__.index(
        next(c for c in plugin.__mro__ if c.__module__.startswith("singer_sdk")))
