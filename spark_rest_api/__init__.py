"""Scale-out on Spark: the connector as a PySpark 4 data source named ``rest_api``.

``register(spark)`` makes ``spark.read.format("rest_api")`` read a tap-rest-api stream and
``df.write.format("rest_api")`` send rows the way target-rest-api does; the executors run the
connector's own HTTP, pagination, record and delivery code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spark_rest_api.errors import task_failure

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DELTA_FORMAT", "FORMAT", "committed_files", "context_columns", "fixed_window_end",
           "register", "task_failure", "window_bookmark", "written_maxima", "written_maximum"]
_BOOKMARKS = ("committed_files", "context_columns", "fixed_window_end", "window_bookmark",
              "written_maxima", "written_maximum")

FORMAT = "rest_api"
DELTA_FORMAT = "rest_connector_delta"
"""The engine's own Delta writer (one atomic commit per job)."""


def __getattr__(name: str) -> Any:
    """The Delta bookmark helpers, imported on first use (they load delta-rs)."""
    if name in _BOOKMARKS:
        from spark_rest_api import bookmarks

        return getattr(bookmarks, name)
    raise AttributeError(f"module 'spark_rest_api' has no attribute {name!r}")


def register(spark: SparkSession) -> None:
    """Register the ``rest_api`` data source (and the engine's Delta writer) with ``spark``.

    The ``partitions`` default is this session's default parallelism, read here on the
    driver: the data source itself runs in Python workers that have no SparkContext.
    """
    from spark_rest_api.delta_writer import DeltaFilesDataSource
    from spark_rest_api.source import RestApiDataSource

    parallelism = spark.sparkContext.defaultParallelism
    spark.dataSource.register(RestApiDataSource.with_parallelism(parallelism))
    spark.dataSource.register(DeltaFilesDataSource)
