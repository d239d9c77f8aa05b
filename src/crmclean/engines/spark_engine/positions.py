"""Seeded samples on Spark: the rows at given positions of a frame in a given order, which is
how the other engines sample (numpy draws positions from the seed). The rank is computed on the
cluster (a sort, then `zipWithIndex`), never by collecting the frame."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import DataFrame, SparkSession


def keep_positions(
    spark: SparkSession, frame: DataFrame, order: list[str], positions: np.ndarray
) -> DataFrame:
    """The rows of `frame` whose position in `order` is among `positions`."""
    columns = frame.columns
    ranked = (
        frame.orderBy(*order)
        .rdd.zipWithIndex()
        .map(lambda pair: (*pair[0], pair[1]))
        .toDF([*columns, "_i"])
    )
    keep = spark.createDataFrame(pl.DataFrame({"_i": positions.astype(np.int64)}).to_arrow())
    return ranked.join(keep, on="_i", how="left_semi").select(*columns)
