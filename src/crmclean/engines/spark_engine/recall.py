"""The blocking recall estimate's loose pairs (core/matching/recall.py) on Spark, as the DuckDB
engine's recall.py: the sampled records paired with every record sharing any one blocking or
comparison column, blocks above 5 x max_block_size skipped, a seeded sample kept above the pair
budget (positions drawn by numpy on the driver, matched to the pairs' rank in row order)."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import SparkSession

from crmclean.core.matching.recall import LOOSE_PAIR_BUDGET, loose_columns, sampled_records
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.spark_engine.positions import keep_positions
from crmclean.engines.spark_engine.sql import key, table


def loose_pairs(spark: SparkSession, spec: MatchingSpec, n: int, seed: int) -> tuple[int, int]:
    """View `_loose (row_l, row_r, _in)`; how many pairs, how many sampled records."""
    sample = sampled_records(n, seed)
    spark.createDataFrame(
        pl.DataFrame({"_row": sample.astype(np.int64)}).to_arrow()
    ).createOrReplaceTempView("_sample")
    limit = 5 * spec.max_block_size
    selects = []
    for column in loose_columns(spec):
        keyed = f"(SELECT _row, {key(column)} AS _k FROM records WHERE {key(column)} <> '')"
        selects.append(
            f"SELECT least(a._row, b._row) AS row_l, greatest(a._row, b._row) AS row_r "
            f"FROM {keyed} a LEFT SEMI JOIN _sample s ON s._row = a._row "
            f"JOIN (SELECT _k FROM {keyed} _g GROUP BY _k HAVING count(*) <= {limit}) k "
            f"ON k._k = a._k JOIN {keyed} b ON b._k = a._k AND b._row <> a._row"
        )
    empty = "SELECT CAST(0 AS BIGINT) AS row_l, CAST(0 AS BIGINT) AS row_r WHERE false"
    union = " UNION ALL ".join(selects) if selects else empty
    loose = table(spark, "_loose", f"SELECT DISTINCT row_l, row_r FROM ({union}) _u")
    count = loose.count()
    if count > LOOSE_PAIR_BUDGET:  # keep the cost bounded: fewer pairs, same shares
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(count, size=LOOSE_PAIR_BUDGET, replace=False))
        kept = keep_positions(spark, loose, ["row_l", "row_r"], keep)
        loose.unpersist()
        loose = kept.localCheckpoint(eager=True)
        loose.createOrReplaceTempView("_loose")
        count = LOOSE_PAIR_BUDGET
    table(
        spark,
        "_loose_in",
        "SELECT l.row_l, l.row_r, p.row_l IS NOT NULL AS _in "
        "FROM _loose l LEFT JOIN pairs p ON p.row_l = l.row_l AND p.row_r = l.row_r",
    )
    loose.unpersist()
    spark.catalog.dropTempView("_sample")
    return count, int(sample.size)
