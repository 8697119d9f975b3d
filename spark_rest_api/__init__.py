"""Scale-out on Spark: the connector as a PySpark 4 data source named ``rest_api``.

``register(spark)`` makes ``spark.read.format("rest_api")`` read a tap-rest-api stream and
``df.write.format("rest_api")`` send rows the way target-rest-api does; the executors run the
connector's own HTTP, pagination, record and delivery code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spark_rest_api.errors import task_failure

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DELTA_FORMAT", "FORMAT", "register", "task_failure"]

FORMAT = "rest_api"
DELTA_FORMAT = "rest_connector_delta"
"""The engine's own Delta writer (one atomic commit per job)."""


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
