"""Small Spark helpers: quoting is the dialect's (engines/sql/dialect.py); results come back
through Arrow and only ever small ones (counts, aggregates, the few rows asked for)."""

from __future__ import annotations

from typing import Any

import polars as pl
from pyspark.sql import DataFrame, SparkSession

from crmclean.engines.sql.dialect import SPARK

ident, text, number, key = SPARK.ident, SPARK.text, SPARK.number, SPARK.key


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
