"""Keeping a table healthy: compaction and vacuum, with delta-rs, after a successful load.

An hourly append or merge adds small files and log entries forever. After a run whose own
commits all succeeded (or on demand: ``rest-connector maintain``), each table it wrote is:

- **compacted** (``optimize: {min_files, target_size}``) when it, or one of its partitions, has
  at least ``min_files`` files below ``target_size``: delta-rs' ``optimize.compact`` rewrites
  them into files of about ``target_size`` in one commit. Readers keep reading the version they
  opened; the replaced files stay on disk until a vacuum past the retention removes them;
- **vacuumed** (``vacuum: {retain_hours, enforce_retention}``): files no version within
  ``retain_hours`` names are deleted. Below delta-rs' safety retention (168 hours) only with
  ``enforce_retention: false``, said with a WARNING, since a reader or writer still on an older
  version may need them.

Maintenance never fails a load: its failure is one WARNING line and the loaded data stays.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable
from singer_sdk import typing as th

from rest_api_core.errors import ConfigError
from rest_api_core.redact import SECRETS

SAFE_RETAIN_HOURS = 168
"""delta-rs' default ``delta.deletedFileRetentionDuration`` (7 days)."""
DEFAULT_MIN_FILES = 16
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9,
          "kib": 2**10, "mib": 2**20, "gib": 2**30}

_SIZE_TYPE = th.CustomType({"type": ["integer", "string"], "pattern": _SIZE.pattern})
_GROUPS = {  # setting: (title, description, its keys as (name, type, title, description))
    "optimize": ("Compaction", "After a successful run, compact small files with delta-rs' "
                 "optimize.compact when there are at least min_files of them", [
        ("min_files", th.IntegerType, "Minimum small files",
         f"Compact when the table (or a partition) has at least this many files below "
         f"target_size (default {DEFAULT_MIN_FILES})"),
        ("target_size", _SIZE_TYPE, "Target file size",
         "Size of the compacted files: bytes, or a number with B, KB, MB, GB (powers of 10) or "
         "KiB, MiB, GiB (default: the table's delta.targetFileSize, else delta-rs' 100 MiB)"),
    ]),
    "vacuum": ("Vacuum", "After a successful run, delete the files no version within the "
               "retention names (delta-rs' vacuum)", [
        ("retain_hours", th.IntegerType, "Retention hours",
         f"Keep files a version of the last retain_hours still names (default: the table's "
         f"delta.deletedFileRetentionDuration, {SAFE_RETAIN_HOURS} hours unless set)"),
        ("enforce_retention", th.BooleanType, "Enforce retention",
         f"Refuse retain_hours below {SAFE_RETAIN_HOURS} (default true); false allows it, "
         f"with a WARNING"),
    ]),
}
MAINTENANCE_PROPERTIES = [
    th.Property(name, th.ObjectType(
        *(th.Property(key, kind, title=key_title, description=text)
          for key, kind, key_title, text in keys),
        additional_properties=False), title=title, description=description)
    for name, (title, description, keys) in _GROUPS.items()
]


def size_in_bytes(value: int | str) -> int:
    """``128MB`` → 128000000; an integer is bytes."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ConfigError(f"optimize.target_size: expected bytes or a number with B, KB, MB, "
                          f"GB, KiB, MiB or GiB, got {value!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


@dataclass(frozen=True)
class Maintenance:
    """The ``optimize`` and ``vacuum`` settings of one target."""

    min_files: int | None = None
    """None: no compaction."""
    target_size: int | None = None
    vacuum: bool = False
    retain_hours: int | None = None
    enforce_retention: bool = True

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Maintenance:
        """From the target's settings; a retention below the safety default without
        ``enforce_retention: false`` is a configuration error."""
        optimize, vacuum = config.get("optimize"), config.get("vacuum")
        found = cls()
        if optimize is not None:
            size = optimize.get("target_size")
            found = cls(min_files=optimize.get("min_files", DEFAULT_MIN_FILES),
                        target_size=None if size is None else size_in_bytes(size))
        if vacuum is not None:
            hours = vacuum.get("retain_hours")
            enforce = vacuum.get("enforce_retention", True)
            if enforce and hours is not None and hours < SAFE_RETAIN_HOURS:
                raise ConfigError(
                    f"vacuum.retain_hours: {hours} is below delta-rs' safety retention of "
                    f"{SAFE_RETAIN_HOURS} hours (readers or writers on an older version may "
                    f"still need those files); set vacuum.enforce_retention: false to allow it")
            found = cls(found.min_files, found.target_size, True, hours, enforce)
        return found

    @property
    def wanted(self) -> bool:
        """True when anything is configured."""
        return self.min_files is not None or self.vacuum

    def run(self, table: DeltaTable, logger: logging.Logger) -> bool:
        """Compact, then vacuum, ``table`` as configured; a failure is one WARNING line (and
        False)."""
        try:
            if self.min_files is not None:
                self._compact(table, logger)
            if self.vacuum:
                self._vacuum(table, logger)
        except Exception as error:  # maintenance never fails the load
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            logger.warning("Maintenance of %s failed, the loaded data stays as committed: %s",
                           table.table_uri, SECRETS.redact(first_line)[:500])
            return False
        return True

    def _compact(self, table: DeltaTable, logger: logging.Logger) -> None:
        for partition in self._crowded_partitions(table):
            filters = [(column, "=", value) for column, value in partition] or None
            metrics = table.optimize.compact(partition_filters=filters,
                                             target_size=self.target_size)
            logger.info("Compacted %s%s: %s files into %s", table.table_uri,
                        f" ({', '.join(f'{c}={v}' for c, v in partition)})" if partition else "",
                        metrics.get("numFilesRemoved"), metrics.get("numFilesAdded"))

    def _crowded_partitions(self, table: DeltaTable) -> list[tuple[tuple[str, str], ...]]:
        """The partitions (``()`` for an unpartitioned table) holding at least ``min_files``
        files below the target size."""
        target = self.target_size or int(
            table.metadata().configuration.get("delta.targetFileSize") or 100 * 2**20)
        files = pa.table(table.get_add_actions(flatten=True)).to_pylist()
        columns = table.metadata().partition_columns
        small = Counter(
            tuple((c, _partition_text(f[f"partition.{c}"])) for c in columns)
            for f in files if f["size_bytes"] < target
        )
        assert self.min_files is not None
        return [partition for partition, count in small.items() if count >= self.min_files]

    def _vacuum(self, table: DeltaTable, logger: logging.Logger) -> None:
        if not self.enforce_retention and (self.retain_hours or 0) < SAFE_RETAIN_HOURS:
            logger.warning("Vacuum of %s keeps only %s hours, below the %s-hour safety "
                           "retention (enforce_retention: false): a reader or writer still on "
                           "an older version may fail", table.table_uri, self.retain_hours,
                           SAFE_RETAIN_HOURS)
        removed = table.vacuum(retention_hours=self.retain_hours, dry_run=False,
                               enforce_retention_duration=self.enforce_retention)
        logger.info("Vacuumed %s: %d files deleted", table.table_uri, len(removed))


def _partition_text(value: Any) -> str:
    """A partition value as delta-rs' partition filters take it ('' for null)."""
    return "" if value is None else str(value)
