"""Small Spark helpers: quoting is the dialect's (engines/sql/dialect.py); results come back
through Arrow and only ever small ones (counts, aggregates, the few rows asked for)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from crmclean.engines.sql.dialect import SPARK

ident, text, number, key = SPARK.ident, SPARK.text, SPARK.number, SPARK.key


def frame_of(spark: SparkSession, data: pl.DataFrame | pa.Table) -> DataFrame:
    """A frame from the driver as a Spark frame, also when it is empty (Spark Connect infers
    no schema from an empty Arrow table: the schema is given)."""
    arrow = data.to_arrow() if isinstance(data, pl.DataFrame) else data
    if arrow.num_rows:
        return spark.createDataFrame(arrow)
    return spark.createDataFrame([], schema=from_arrow_schema(arrow.schema))


def table(spark: SparkSession, name: str, query: str) -> DataFrame:
    """The query's rows, materialised once (lineage cut) and named `name` for later SQL."""
    frame = spark.sql(query).localCheckpoint(eager=True)
    frame.createOrReplaceTempView(name)
    return frame


def first(spark: SparkSession, query: str) -> tuple[Any, ...]:
    """The first row of a query; () when there is none."""
    rows = spark.sql(query).take(1)
    return tuple(rows[0]) if rows else ()


def small(frame: DataFrame) -> pl.DataFrame:
    """A small result (an aggregate, the rows asked for) as a polars frame."""
    return pl.DataFrame(pl.from_arrow(frame.toArrow()))


def drop(spark: SparkSession, *names: str) -> None:
    for name in names:
        spark.catalog.dropTempView(name)
