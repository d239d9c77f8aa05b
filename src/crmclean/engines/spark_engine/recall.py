"""The blocking recall estimate's loose pairs on Spark (the shared SQL: engines/sql/recall.py).
Above the pair budget a seeded sample is kept (positions drawn by numpy on the driver, matched
to the pairs' rank in row order on the cluster)."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import SparkSession

from crmclean.core.matching.recall import LOOSE_PAIR_BUDGET, loose_columns, sampled_records
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.spark_engine.positions import keep_positions
from crmclean.engines.spark_engine.sql import frame_of, table
from crmclean.engines.sql.dialect import SPARK
from crmclean.engines.sql.recall import IN_SQL, loose_sql


def loose_pairs(spark: SparkSession, spec: MatchingSpec, n: int, seed: int) -> tuple[int, int]:
    """View `_loose_in (row_l, row_r, _in)`; how many pairs, how many sampled records."""
    sample = sampled_records(n, seed)
    frame_of(spark, pl.DataFrame({"_row": sample.astype(np.int64)})).createOrReplaceTempView(
        "_sample"
    )
    loose = table(spark, "_loose", loose_sql(spec, loose_columns(spec), SPARK))
    count = loose.count()
    if count > LOOSE_PAIR_BUDGET:  # keep the cost bounded: fewer pairs, same shares
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(count, size=LOOSE_PAIR_BUDGET, replace=False))
        kept = keep_positions(spark, loose, ["row_l", "row_r"], keep)
        loose.unpersist()
        loose = kept
        loose.createOrReplaceTempView("_loose")
        count = LOOSE_PAIR_BUDGET
    table(spark, "_loose_in", IN_SQL)
    loose.unpersist()
    spark.catalog.dropTempView("_sample")
    return count, int(sample.size)
