"""Blocking rules as Spark joins, with core/matching/blocking.py's semantics (as the DuckDB
engine's blocking.py): keys trimmed and lower-cased, a record with an empty key part joins no
block, `any_word` columns exploded at spaces (one block per word), blocks above max_block_size
skipped and reported (the guard against giant blocks skewing one join task), a rule above
max_pairs refused before a pair is built, the pairs of all rules united with their first rule
(`_rule`) and the bitmask of every rule that holds (`_rules`). Only block statistics and three
example keys come back to the driver."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession

from crmclean.core.matching.blocking import BlockingRuleStats, BlockingTooLarge
from crmclean.core.matching.spec import BlockingRule, MatchingSpec
from crmclean.engines.spark_engine.sql import drop, first, ident, key, table


def _members_sql(rule: BlockingRule) -> str:
    """`_row` and the key parts `_c0..` of every record with a complete key."""
    parts = [f"_c{i}" for i in range(len(rule.columns))]
    selects, views = [], []
    for i, (column, part) in enumerate(zip(rule.columns, parts, strict=True)):
        if column in rule.any_word:
            views.append(f"LATERAL VIEW explode(split({key(column)}, ' ')) _w{i} AS {part}")
            selects.append(part)
        else:
            selects.append(f"{key(column)} AS {part}")
    inner = f"SELECT _row, {', '.join(selects)} FROM records {' '.join(views)}"
    complete = " AND ".join(f"{p} IS NOT NULL AND {p} <> ''" for p in parts)
    distinct = "DISTINCT " if rule.any_word else ""
    return f"SELECT {distinct}_row, {', '.join(parts)} FROM ({inner}) _m WHERE {complete}"


def _rule(spark: SparkSession, spec: MatchingSpec, index: int, force: bool) -> tuple[Any, ...]:
    rule = spec.blocking[index]
    parts = ", ".join(f"_c{i}" for i in range(len(rule.columns)))
    members = table(spark, "_members", _members_sql(rule))
    blocks = table(
        spark,
        "_blocks",
        f"SELECT {parts}, count(*) AS _n, min(_row) AS _block FROM _members "
        f"GROUP BY {parts} HAVING count(*) >= 2",
    )
    allowed = rule.max_block_size or spec.max_block_size
    kept = first(
        spark,
        "SELECT count(*), coalesce(sum(_n * (_n - 1) DIV 2), 0), coalesce(max(_n), 0), "
        f"coalesce(max(_n * (_n - 1) DIV 2), 0) FROM _blocks WHERE _n <= {allowed}",
    )
    over = first(
        spark,
        f"SELECT count(*), coalesce(sum(_n * (_n - 1) DIV 2), 0) FROM _blocks WHERE _n > {allowed}",
    )
    n_blocks, pairs_total, largest, largest_pairs = (int(v) for v in kept)
    limit = rule.max_pairs or spec.max_pairs_per_rule
    if pairs_total > limit and not force:
        members.unpersist()
        blocks.unpersist()
        raise BlockingTooLarge.of(rule.label, pairs_total, limit, largest)
    columns = ", ".join(f"CAST(r.{ident(c)} AS STRING)" for c in rule.columns)
    examples = spark.sql(
        f"SELECT array({columns}) AS _k, b._n FROM _blocks b JOIN records r ON r._row = b._block "
        f"WHERE b._n > {allowed} ORDER BY b._n DESC, b._block LIMIT 3"
    ).collect()
    on = " AND ".join(f"a._c{i} = b._c{i}" for i in range(len(rule.columns)))
    distinct = "DISTINCT " if rule.any_word else ""  # two shared words: one pair
    found = table(
        spark,
        f"_found{index}",
        f"SELECT {distinct}a._row AS row_l, b._row AS row_r, CAST({index} AS INT) AS _rule "
        f"FROM _members a JOIN (SELECT {parts} FROM _blocks WHERE _n <= {allowed}) k "
        f"ON {' AND '.join(f'k._c{i} = a._c{i}' for i in range(len(rule.columns)))} "
        f"JOIN _members b ON {on} AND a._row < b._row",
    )
    n_pairs = found.count()
    members.unpersist()
    blocks.unpersist()
    stats = {
        "rule": rule.label,
        "blocks": n_blocks,
        "pairs": n_pairs,
        "largest_block": largest,
        "top_block_share": largest_pairs / n_pairs if n_pairs else 0.0,
        "skipped_blocks": int(over[0]),
        "skipped_pairs": int(over[1]),
        "skipped_examples": [
            ("|".join("None" if v is None else v for v in row[0]), int(row[1])) for row in examples
        ],
    }
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
