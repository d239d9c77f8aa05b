"""Blocking rules as DuckDB tables, from the shared blocking SQL (engines/sql/blocking.py): the
pairs of all rules united with their first rule (`_rule`) and the bitmask of every rule that
holds (`_rules`)."""

from __future__ import annotations

from typing import Any

import duckdb

from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.duckdb_engine.sql import first, run
from crmclean.engines.sql import blocking as sql
from crmclean.engines.sql.dialect import DUCKDB


def _rule(
    con: duckdb.DuckDBPyConnection, spec: MatchingSpec, index: int, force: bool
) -> dict[str, Any]:
    rule = spec.blocking[index]
    run(con, f"CREATE OR REPLACE TABLE _members AS {sql.members_sql(rule, DUCKDB)}")
    run(con, f"CREATE OR REPLACE TABLE _blocks AS {sql.blocks_sql(rule)}")
    allowed = sql.allowed(rule, spec)
    kept = first(con, sql.kept_sql(allowed, DUCKDB))
    sql.checked(rule, spec, kept, force)
    skipped = first(con, sql.skipped_sql(allowed, DUCKDB))
    examples = con.execute(sql.examples_sql(rule, allowed, DUCKDB)).fetchall()
    run(con, "INSERT INTO _found " + sql.found_sql(rule, index, allowed, "UTINYINT"))
    found = first(con, f"SELECT count(*) FROM _found WHERE _rule = {index}")
    return sql.rule_stats(rule, kept, skipped, examples, int(found[0]) if found else 0)


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
