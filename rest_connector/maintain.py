"""``rest-connector maintain``: compaction and vacuum of a pipeline's Delta outputs, on demand."""

from __future__ import annotations

import logging
import sys

from rest_api_core.errors import ConnectorError
from rest_connector.pipeline.translate import Pipeline

DELTA = "target-delta"


def maintain(pipeline: Pipeline, output: str | None) -> int:
    """Run each Delta output's configured ``optimize`` and ``vacuum`` (only ``output`` if
    given) on the tables of the pipeline's inputs; 1 if any failed."""
    from target_delta import maintain_tables

    delta = [t for t in pipeline.targets if t.executable == DELTA]
    chosen = [t for t in delta if output is None or t.name == output]
    if not chosen:
        names = ", ".join(t.name for t in delta) or "none"
        raise ConnectorError(f"--output {output!r}: no Delta output of that name (Delta "
                             f"outputs: {names})" if output else
                             "the pipeline has no Delta output to maintain")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("rest_connector.maintain")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    streams = [stream["name"] for stream in pipeline.tap.settings["streams"]]
    failed = 0
    for target in chosen:
        try:
            failed += maintain_tables(target.settings, streams, logger.getChild(target.name))
        except ConnectorError as error:
            raise ConnectorError(f"output {target.name!r}: {error}") from None
    return 1 if failed else 0
