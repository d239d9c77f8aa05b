"""Seeded samples on Spark: the rows at given positions of a frame in a given order, which is
how the other engines sample (numpy draws positions from the seed). The rank is computed on the
cluster, never by collecting the frame, and with the DataFrame API only (Spark Connect has no
RDDs, so no `zipWithIndex`): after the sort each row gets `monotonically_increasing_id()`,
whose upper bits are its partition and lower 33 bits its place inside it; the rows per partition
(one small row each) give every partition's offset, and offset + place is the position."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from crmclean.engines.spark_engine.sql import frame_of, small

_PLACE_BITS = 33  # monotonically_increasing_id: partition << 33 | place in the partition


def keep_positions(
    spark: SparkSession, frame: DataFrame, order: list[str], positions: np.ndarray
) -> DataFrame:
    """The rows of `frame` whose position in `order` (a unique order) is among `positions`,
    materialised (the caller unpersists them)."""
    columns = frame.columns
    # sorted, numbered and materialised once: the ids depend on the partitioning they were
    # given in, so they must not be computed again by a later action
    numbered = (
        frame.orderBy(*order)
        .withColumn("_m", F.monotonically_increasing_id())
        .withColumn("_p", F.shiftright("_m", _PLACE_BITS))
        .localCheckpoint(eager=True)
    )
    sizes = small(numbered.groupBy("_p").count()).sort("_p")
    offsets = sizes.select(
        pl.col("_p").cast(pl.Int64),
        (pl.col("count").cum_sum() - pl.col("count")).cast(pl.Int64).alias("_offset"),
    )
    keep = frame_of(spark, pl.DataFrame({"_i": positions.astype(np.int64)}))
    place = F.col("_m").bitwiseAND((1 << _PLACE_BITS) - 1)
    ranked = numbered.join(F.broadcast(frame_of(spark, offsets)), on="_p").withColumn(
        "_i", F.col("_offset") + place
    )
    kept = ranked.join(keep, on="_i", how="left_semi").select(*columns).localCheckpoint(eager=True)
    numbered.unpersist()
    return kept
