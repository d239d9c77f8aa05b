"""Blocking rules as Spark joins, from the shared blocking SQL (engines/sql/blocking.py): the
guard against giant blocks (max_block_size) keeps any one join task from a skewed key; the
pairs of all rules united with their first rule (`_rule`) and the bitmask of every rule that
holds (`_rules`). Only block statistics and three example keys come back to the driver."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession

from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.spark_engine.sql import drop, first, table
from crmclean.engines.sql import blocking as sql
from crmclean.engines.sql.dialect import SPARK


def _rule(spark: SparkSession, spec: MatchingSpec, index: int, force: bool) -> tuple[Any, ...]:
    rule = spec.blocking[index]
    members = table(spark, "_members", sql.members_sql(rule, SPARK))
    blocks = table(spark, "_blocks", sql.blocks_sql(rule))
    try:
        allowed = sql.allowed(rule, spec)
        kept = first(spark, sql.kept_sql(allowed, SPARK))
        sql.checked(rule, spec, kept, force)
        skipped = first(spark, sql.skipped_sql(allowed, SPARK))
        examples = spark.sql(sql.examples_sql(rule, allowed, SPARK)).collect()
        found = table(spark, f"_found{index}", sql.found_sql(rule, index, allowed, "INT"))
        stats = sql.rule_stats(rule, kept, skipped, examples, found.count())
    finally:
        members.unpersist()
        blocks.unpersist()
    return stats, found


def block(spark: SparkSession, spec: MatchingSpec, force: bool) -> list[BlockingRuleStats]:
    """The view `pairs (row_l, row_r, _rule, _rules)` from `records`; the rules' stats."""
    results = [_rule(spark, spec, index, force) for index in range(len(spec.blocking))]
    found: list[DataFrame] = [f for _, f in results]
    union = " UNION ALL ".join(f"SELECT * FROM _found{i}" for i in range(len(found)))
    union = union or "SELECT CAST(0 AS BIGINT) AS row_l, CAST(0 AS BIGINT) AS row_r, 0 AS _rule"
    table(
        spark,
        "pairs",
        "SELECT row_l, row_r, min(_rule) AS _rule, CAST(bit_or(shiftleft(1, _rule)) AS BIGINT) "
        f"AS _rules FROM ({union}) _u GROUP BY row_l, row_r" + ("" if found else " HAVING false"),
    )
    for frame in found:
        frame.unpersist()
    drop(spark, "_members", "_blocks", *(f"_found{i}" for i in range(len(found))))
    firsts = {
        int(r[0]): int(r[1])
        for r in spark.sql("SELECT _rule, count(*) FROM pairs GROUP BY _rule").collect()
    }
    return [BlockingRuleStats(new_pairs=firsts.get(i, 0), **s) for i, (s, _) in enumerate(results)]
