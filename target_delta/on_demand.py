"""Maintenance on demand (``rest-connector maintain``): the configured compaction and vacuum
of every table a target-delta configuration writes, outside a load."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from rest_api_core.errors import ConfigError
from target_delta.maintenance import Maintenance
from target_delta.storage import TablePaths, storage_options_for


def maintain_tables(config: Mapping[str, Any], streams: Sequence[str],
                    logger: logging.Logger) -> int:
    """Compact and vacuum, as ``optimize`` and ``vacuum`` in ``config`` say, the table of each
    of ``streams`` that exists; the number of tables whose maintenance failed."""
    maintenance = Maintenance.of(config)
    if not maintenance.wanted:
        raise ConfigError("neither optimize nor vacuum is set for this output: nothing to do "
                          "(set optimize: {min_files: 16} or vacuum: {retain_hours: 168})")
    paths = TablePaths(config["path"])
    for stream in streams:  # every stream known first, as at the end of a run with them all
        paths.for_stream(stream)
    uris = dict.fromkeys(paths.for_stream(stream) for stream in streams)
    failed = 0
    for uri in uris:
        try:
            table = DeltaTable(uri, storage_options=storage_options_for(uri, config) or None)
        except TableNotFoundError:
            logger.info("No Delta table at %s yet: nothing to maintain", uri)
            continue
        failed += not maintenance.run(table, logger)
    return failed
