"""Singer schema → Spark schema, through the Arrow layout target-delta stores tables with.

Each top-level field carries its Singer property in the field's metadata (``singer``), so the
reader and the writers, which receive only the Spark schema, rebuild the exact layout (a JSON
text column and a plain string column are both Spark strings).
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql.pandas.types import from_arrow_type
from pyspark.sql.types import StructField, StructType

from rest_api_core.arrow.schema import StreamLayout, stream_layout
from rest_api_core.errors import ConfigError

SINGER_METADATA = "singer"


def spark_schema(singer_schema: dict[str, Any]) -> StructType:
    """The Spark schema of a stream: every column nullable, Singer property in metadata."""
    layout = stream_layout(singer_schema)
    properties = singer_schema.get("properties") or {}
    return StructType([
        StructField(name, from_arrow_type(column.type), nullable=True,
                    metadata={SINGER_METADATA: json.dumps(properties[name])})
        for name, column in layout.columns
    ])


def singer_schema_of(schema: StructType) -> dict[str, Any]:
    """The Singer schema a Spark schema was made from (see ``spark_schema``)."""
    properties: dict[str, Any] = {}
    for field in schema.fields:
        prop = field.metadata.get(SINGER_METADATA)
        if prop is None:
            msg = (f"column {field.name!r} has no Singer type: the rest_api data source reads "
                   "and writes DataFrames it produced itself (declare `schema` in the stream "
                   "settings instead of passing a Spark schema)")
            raise ConfigError(msg)
        properties[field.name] = json.loads(prop)
    return {"type": "object", "properties": properties}


def layout_of(schema: StructType) -> StreamLayout:
    """The Arrow layout behind a Spark schema made by ``spark_schema``."""
    return stream_layout(singer_schema_of(schema))
