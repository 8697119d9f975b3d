"""The ``rest_api`` data source: options in, a reader or a writer out."""

from __future__ import annotations

from typing import ClassVar

from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceWriter
from pyspark.sql.types import StructType

from rest_api_core.errors import ConfigError
from rest_api_core.redact import install_log_redaction
from spark_rest_api import FORMAT
from spark_rest_api.conform import UNKNOWN_FIELDS
from spark_rest_api.errors import reported_as
from spark_rest_api.options import (
    choice_option,
    positive_int_option,
    required_option,
    settings_option,
)
from spark_rest_api.reader import RestApiReader
from spark_rest_api.rest_writer import RestApiWriter
from spark_rest_api.sampling import DEFAULT_SAMPLE_PAGES, sampled_schema
from spark_rest_api.streams import open_stream
from spark_rest_api.types import spark_schema

STREAM_MEANING = "the name of a stream of the tap settings"


class RestApiDataSource(DataSource):
    """``spark.read.format("rest_api")`` and ``df.write.format("rest_api")``.

    Read options: ``config`` (tap-rest-api settings), ``stream``, ``partitions``, ``state``
    (Singer state as JSON: incremental streams start from their bookmarks),
    ``schema_sample_pages`` (pages an inferred schema is read from, default 5) and
    ``unknown_fields`` (``fail``, the default, or ``drop``: a field outside an inferred schema).
    Write options: ``config`` (target-rest-api settings), ``stream``.
    """

    parallelism: ClassVar[int] = 1
    """The session's default parallelism, baked in by ``with_parallelism``."""

    @classmethod
    def name(cls) -> str:
        """The format name: ``rest_api``."""
        return FORMAT

    @classmethod
    def with_parallelism(cls, parallelism: int) -> type[RestApiDataSource]:
        """A copy of the class that knows the session's parallelism (it is pickled by value
        to the Python workers, which have no SparkContext to ask)."""
        return type(f"{cls.__name__}OnSession", (cls,), {"parallelism": parallelism})

    def schema(self) -> StructType:
        """The stream's declared schema, or the one inferred from its first
        ``schema_sample_pages`` pages (``sampling``)."""
        install_log_redaction()
        with reported_as("rest_api read"):
            stream = open_stream(settings_option(self.options),
                                 required_option(self.options, "stream", STREAM_MEANING))
            pages = positive_int_option(self.options, "schema_sample_pages",
                                        DEFAULT_SAMPLE_PAGES)
            return spark_schema(sampled_schema(stream, pages))

    def reader(self, schema: StructType) -> DataSourceReader:
        """A reader for ``partitions`` partitions at most (default: the parallelism)."""
        install_log_redaction()
        with reported_as("rest_api read"):
            return RestApiReader(
                settings_option(self.options),
                required_option(self.options, "stream", STREAM_MEANING),
                schema,
                positive_int_option(self.options, "partitions", self.parallelism),
                self.parallelism,
                settings_option(self.options, "state") if self.options.get("state") else None,
                choice_option(self.options, "unknown_fields", UNKNOWN_FIELDS),
            )

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        """A writer that POSTs every partition's rows (append only: an API has no
        "replace everything")."""
        install_log_redaction()
        with reported_as("rest_api write"):
            if overwrite:
                raise ConfigError("mode: the rest_api writer only appends (use "
                                  "mode('append'))")
            return RestApiWriter(settings_option(self.options), self.options.get("stream"),
                                 schema)
