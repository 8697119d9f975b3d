"""Parent→child streams on Spark: the parent read once on the driver, children in the tasks.

What a child takes from each parent record comes from the tap's own ``preprocess_context``
(the placeholder values, which fail naming the placeholder and the record) and
``ParentLink.included_values`` (the ``include_from_parent`` fields), so a Spark read requests
the same URLs and adds the same ``_<parent>_<path>`` fields as the tap. A grandchild is read
through its whole lineage: a task reads, per root record of its slice, the intermediate
stream's records, and the grandchild's for each of those.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from spark_rest_api.conform import Conformer
from tap_rest_api.sdk_seam import start_bookmark
from tap_rest_api.streams import RestApiStream

ParentValues = tuple[dict[str, Any], dict[str, Any]]
"""What a child takes from one parent record: its context and its included fields."""


def lineage(stream: RestApiStream) -> list[RestApiStream]:
    """The streams read once per parent record, from the root's child down to ``stream``."""
    chain: list[RestApiStream] = []
    while stream.parent_stream is not None:
        chain.insert(0, stream)
        stream = stream.parent_stream
    return chain


def taken_from(child: RestApiStream, record: dict[str, Any]) -> ParentValues:
    """What ``child`` takes from one record of its parent, as the tap takes it."""
    return child.preprocess_context(dict(record)), child.link.included_values(record)


def root_values(stream: RestApiStream) -> list[ParentValues]:
    """The root stream's records, read once (on the driver) with its own settings, each
    reduced to what the first stream of ``stream``'s lineage takes from it."""
    first = lineage(stream)[0]
    root = first.parent_stream
    held = Conformer(root)(root.request_records(None))
    return [taken_from(first, record) for record in held]


def _with_included(records: Iterable[dict[str, Any]], included: dict[str, Any]
                   ) -> Iterator[dict[str, Any]]:
    for record in records:
        record.update(included)  # the parent's fields win, as in the tap
        yield record


def child_records(chain: list[RestApiStream], parents: Iterable[ParentValues],
                  conformers: Mapping[str, Conformer]) -> Iterator[dict[str, Any]]:
    """The records of the last stream of ``chain`` under ``parents`` (what ``chain[0]`` takes
    from each root record), each stream paginating per parent as in the tap."""
    first, rest = chain[0], chain[1:]
    for context, included in parents:
        if not rest and first.settings.incremental is not None:
            start_bookmark(first, context)  # this parent's bookmark, sent with its requests
        records = conformers[first.name](_with_included(first.request_records(context),
                                                        included))
        if rest:
            # The SDK hands a record to its children with its state partition's keys (an
            # incremental stream's placeholder values) added where the record lacks them.
            partition = {key: context[key] for key in first.state_partitioning_keys or ()}
            yield from child_records(
                rest, (taken_from(rest[0], {**partition, **r}) for r in records), conformers)
        else:
            yield from records
