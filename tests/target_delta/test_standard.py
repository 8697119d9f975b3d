"""The SDK's standard target tests, writing real Delta tables in a temporary directory."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from deltalake import DeltaTable
from singer_sdk.testing import get_target_test_class

from target_delta.target import TargetDelta

_LAKE = Path(tempfile.mkdtemp(prefix="target-delta-standard-"))
atexit.register(shutil.rmtree, _LAKE, True)

TestTargetDeltaStandard = get_target_test_class(
    TargetDelta,
    config={"path": str(_LAKE / "{stream}")},
)


def test_standard_tests_wrote_tables() -> None:
    """Runs after the class above: the standard syncs really committed readable tables."""
    tables = {p.parent.name for p in _LAKE.glob("*/_delta_log")}
    assert {"test_array_data", "test_strings", "test_schema_updates",
            "TestCamelcase"} <= tables
    fruits = DeltaTable(str(_LAKE / "test_array_data")).to_pyarrow_table()
    assert fruits.column("fruits").to_pylist()[:2] == [["apple", "orange", "pear"],
                                                       ["banana", "apple"]]
