"""Spotting an endpoint that could be read incrementally: a "since" query parameter and a
date-time (or epoch) field of the records. Only suggested in a comment: an incremental input
also needs an output mode that keeps earlier rows (``merge`` with keys, or ``append``), which
the written file's single ``overwrite`` output does not."""

from __future__ import annotations

from rest_connector.init.operations import Operation

SINCE_PARAMS = ("since", "updated_since", "updated_after", "modified_since", "modified_after",
                "updated_at_min", "updated[gte]", "updated_at[gte]", "created[gte]",
                "created_after", "start_time", "from_date", "changed_since", "min_updated_at")
TIME_FIELDS = ("updated_at", "updatedAt", "modified_at", "modifiedAt", "last_modified",
               "lastModified", "updated", "modified", "last_edited_time", "created_at",
               "createdAt", "created")


def incremental_hint(operation: Operation, fields: dict[str, str]) -> str | None:
    """A comment proposing ``incremental`` when a since-parameter and a time field exist
    (``fields``: record field → declared type)."""
    query = operation.query()
    param = next((query[p].name for p in SINCE_PARAMS if p in query), None)
    key = next((f for f in TIME_FIELDS
                if fields.get(f) in ("timestamp", "integer", "date", "string")), None)
    if param is None or key is None:
        return None
    return (f"incremental possible: query parameter {param} and the records' '{key}': add "
            f"incremental: {{replication_key: {key}, param: {param}, start_value: ...}} "
            f"and write it with mode: merge (keys) or append")
