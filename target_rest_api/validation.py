"""The checks a batch passes before it is sent: schema, key properties, date-like values.

The SDK checks each record on its own as it arrives, through several calls per record. Here
a full batch is checked in one pass just before it is handed over, so nothing invalid is
ever sent, and the first bad record stops the run with its position in the stream. The
schema is compiled to Python once (fastjsonschema, as the SDK suggests). Like the SDK's
default validator it checks types and structure, not string formats, and never fills in
defaults: records are sent as they came, except that date, time and date-time values are
parsed, so that ``payload`` writes them as RFC 3339 strings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import fastjsonschema
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord, MissingKeyPropertiesError

from rest_api_core.sdk_seam import (
    date_fromisoformat,
    datetime_fromisoformat,
    get_datelike_property_type,
    time_fromisoformat,
)

SDC_FIELDS = frozenset((
    "_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
    "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at",
))
"""The record metadata fields, dropped from records when ``add_record_metadata`` is off."""

_PARSERS: dict[str, Callable[[str], Any]] = {
    "date": date_fromisoformat,
    "time": time_fromisoformat,
    "date-time": datetime_fromisoformat,
}

logger = logging.getLogger("target_rest_api.validation")


class BatchChecks:
    """Checks and converts one stream's records, a batch at a time, in place."""

    def __init__(
        self,
        stream: str,
        schema: dict[str, Any],
        key_properties: Sequence[str],
        *,
        validate: bool = True,
        drop_metadata: bool = True,
    ) -> None:
        self.stream = stream
        self._validate = _compile(schema) if validate else None
        self._keys = frozenset(key_properties)
        self._fields = frozenset(schema.get("properties", {}))
        self._open = schema.get("additionalProperties", False) is not False
        self._drop_metadata = drop_metadata
        self._dates = tuple(
            (name, kind, _PARSERS[kind])
            for name, kind in (
                (name, get_datelike_property_type(prop))
                for name, prop in schema.get("properties", {}).items()
            )
            if kind
        )
        self._warned_fields: set[str] = set()

    def apply(self, records: Sequence[dict[str, Any]], first: int) -> None:
        """Check ``records`` (stream positions from ``first``) and parse their date-like
        values; raise ``InvalidRecord`` naming the first bad record's position."""
        for offset, record in enumerate(records):
            if self._drop_metadata and not SDC_FIELDS.isdisjoint(record):
                for name in SDC_FIELDS.intersection(record):
                    del record[name]
            if not self._open and not self._fields.issuperset(record):
                self._warn_unknown_fields(record)
            if self._validate is not None:
                self._check_schema(record, first + offset)
            if not self._keys.issubset(record):
                missing = sorted(self._keys.difference(record))
                msg = f"Key properties {missing} missing in {self._where(first + offset)}"
                raise MissingKeyPropertiesError(msg)
            for name, kind, parse in self._dates:
                value = record.get(name)
                if value is None:
                    continue
                try:
                    record[name] = parse(value)
                except (ValueError, TypeError):
                    self._fail(f"Could not parse value {value!r} for field {name!r} "
                               f"({kind} expected)", record, first + offset)

    def _check_schema(self, record: dict[str, Any], position: int) -> None:
        try:
            self._validate(record)  # type: ignore[misc]
        except fastjsonschema.JsonSchemaValueException as error:
            field = ".".join(str(part) for part in error.path[1:]) or "record"
            self._fail(error.message.replace(error.name, field, 1), record, position)

    def _fail(self, problem: str, record: dict[str, Any], position: int) -> None:
        raise InvalidRecord(f"{problem} ({self._where(position)})", record)

    def _where(self, position: int) -> str:
        return f"record {position} of stream {self.stream!r}"

    def _warn_unknown_fields(self, record: dict[str, Any]) -> None:
        """Once per field: a value the schema does not declare is sent as it came."""
        for name in set(record).difference(self._fields, self._warned_fields):
            if record[name] is not None:
                logger.warning("No schema for field %r of stream %r: sent as it came",
                               name, self.stream)
                self._warned_fields.add(name)


def _compile(schema: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    try:
        return fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException as error:
        msg = f"Schema Validation Error: {error}"
        raise InvalidJSONSchema(msg) from error
