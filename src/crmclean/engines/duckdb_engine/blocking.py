"""Blocking rules as SQL joins, with core/matching/blocking.py's semantics: keys trimmed and
lower-cased, a record with an empty key part joins no block, `any_word` columns split at spaces
(one block per word), blocks above max_block_size skipped and reported, a rule above
max_pairs refused before a pair is built, the pairs of all rules united with their first rule
(`_rule`) and the bitmask of every rule that holds (`_rules`)."""

from __future__ import annotations

from typing import Any

import duckdb

from crmclean.core.matching.blocking import BlockingRuleStats, BlockingTooLarge
from crmclean.core.matching.spec import BlockingRule, MatchingSpec
from crmclean.engines.duckdb_engine.sql import first, ident, key, run


def _members_sql(rule: BlockingRule) -> str:
    """`_row` and the key parts `_c0..` of every record with a complete key."""
    parts = [f"_c{i}" for i in range(len(rule.columns))]
    selects = []
    for column, part in zip(rule.columns, parts, strict=True):
        if column in rule.any_word:
            selects.append(f"unnest(string_split({key(column)}, ' ')) AS {part}")
        else:
            selects.append(f"{key(column)} AS {part}")
    inner = f"SELECT _row, {', '.join(selects)} FROM records"
    complete = " AND ".join(f"{p} IS NOT NULL AND {p} <> ''" for p in parts)
    distinct = "DISTINCT " if rule.any_word else ""
    return f"SELECT {distinct}_row, {', '.join(parts)} FROM ({inner}) WHERE {complete}"


def _rule(
    con: duckdb.DuckDBPyConnection, spec: MatchingSpec, index: int, force: bool
) -> dict[str, Any]:
    rule = spec.blocking[index]
    parts = ", ".join(f"_c{i}" for i in range(len(rule.columns)))
    run(con, f"CREATE OR REPLACE TABLE _members AS {_members_sql(rule)}")
    run(
        con,
        f"CREATE OR REPLACE TABLE _blocks AS SELECT {parts}, count(*) AS _n, "
        f"min(_row) AS _block FROM _members GROUP BY {parts} HAVING count(*) >= 2",
    )
    allowed = rule.max_block_size or spec.max_block_size
    kept = first(
        con,
        "SELECT count(*), coalesce(sum(_n * (_n - 1) // 2), 0), coalesce(max(_n), 0), "
        f"coalesce(max(_n * (_n - 1) // 2), 0) FROM _blocks WHERE _n <= {allowed}",
    )
    over = first(
        con,
        f"SELECT count(*), coalesce(sum(_n * (_n - 1) // 2), 0) FROM _blocks WHERE _n > {allowed}",
    )
    assert kept is not None and over is not None
    blocks, pairs_total, largest, largest_pairs = (int(v) for v in kept)
    limit = rule.max_pairs or spec.max_pairs_per_rule
    if pairs_total > limit and not force:
        raise BlockingTooLarge.of(rule.label, pairs_total, limit, largest)
    columns = ", ".join(f"CAST(r.{ident(c)} AS VARCHAR)" for c in rule.columns)
    examples = con.execute(
        f"SELECT [{columns}], b._n FROM _blocks b JOIN records r ON r._row = b._block "
        f"WHERE b._n > {allowed} ORDER BY b._n DESC, b._block LIMIT 3"
    ).fetchall()
    on = " AND ".join(f"a._c{i} = b._c{i}" for i in range(len(rule.columns)))
    distinct = "DISTINCT " if rule.any_word else ""  # two shared words: one pair
    run(
        con,
        f"INSERT INTO _found SELECT {distinct}a._row AS row_l, b._row AS row_r, "
        f"CAST({index} AS UTINYINT) AS _rule FROM _members a "
        f"JOIN (SELECT {parts} FROM _blocks WHERE _n <= {allowed}) k USING ({parts}) "
        f"JOIN _members b ON {on} AND a._row < b._row",
    )
    found = first(con, f"SELECT count(*) FROM _found WHERE _rule = {index}")
    n_pairs = int(found[0]) if found else 0
    return {
        "rule": rule.label,
        "blocks": blocks,
        "pairs": n_pairs,
        "largest_block": largest,
        "top_block_share": largest_pairs / n_pairs if n_pairs else 0.0,
        "skipped_blocks": int(over[0]),
        "skipped_pairs": int(over[1]),
        "skipped_examples": [
            ("|".join("None" if v is None else v for v in values), int(n)) for values, n in examples
        ],
    }


def block(
    con: duckdb.DuckDBPyConnection, spec: MatchingSpec, force: bool
) -> list[BlockingRuleStats]:
    """Fill the table `pairs (row_l, row_r, _rule, _rules)` from `records`; the rules' stats."""
    run(con, "CREATE OR REPLACE TABLE _found (row_l BIGINT, row_r BIGINT, _rule UTINYINT)")
    stats = [_rule(con, spec, index, force) for index in range(len(spec.blocking))]
    run(
        con,
        "CREATE OR REPLACE TABLE pairs AS SELECT row_l, row_r, min(_rule) AS _rule, "
        "CAST(bit_or(CAST(1 AS UINTEGER) << _rule) AS UINTEGER) AS _rules "
        "FROM _found GROUP BY row_l, row_r ORDER BY row_l, row_r",
    )
    run(con, "DROP TABLE _found; DROP TABLE IF EXISTS _members; DROP TABLE IF EXISTS _blocks")
    firsts = dict(con.execute("SELECT _rule, count(*) FROM pairs GROUP BY _rule").fetchall())
    return [BlockingRuleStats(new_pairs=int(firsts.get(i, 0)), **s) for i, s in enumerate(stats)]
