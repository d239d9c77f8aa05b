"""The blocking recall estimate's loose pairs (core/matching/recall.py) as SQL: the sampled
records paired with every record sharing any one blocking or comparison column, blocks above
5 x max_block_size skipped. Above the pair budget a seeded sample is kept (drawn by numpy, not
by polars' `sample`: the estimate may differ from the polars engine's in the last digits)."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from crmclean.core.matching.recall import LOOSE_PAIR_BUDGET, loose_columns, sampled_records
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.duckdb_engine.sql import first, key, run


def loose_pairs_sql(
    con: duckdb.DuckDBPyConnection, spec: MatchingSpec, n: int, seed: int
) -> tuple[int, int]:
    """Table `_loose (row_l, row_r, _in)`; how many pairs, how many sampled records."""
    sample = sampled_records(n, seed)
    con.register("_sample", pl.DataFrame({"_row": sample.astype(np.int64)}))
    limit = 5 * spec.max_block_size
    selects = []
    for column in loose_columns(spec):
        keyed = f"(SELECT _row, {key(column)} AS _k FROM records WHERE {key(column)} <> '')"
        selects.append(
            f"SELECT least(a._row, b._row) AS row_l, greatest(a._row, b._row) AS row_r "
            f"FROM {keyed} a SEMI JOIN _sample s ON s._row = a._row "
            f"JOIN (SELECT _k FROM {keyed} GROUP BY _k HAVING count(*) <= {limit}) k "
            f"ON k._k = a._k JOIN {keyed} b ON b._k = a._k AND b._row <> a._row"
        )
    run(con, "CREATE OR REPLACE TABLE _loose (row_l BIGINT, row_r BIGINT)")
    if selects:
        run(
            con,
            "INSERT INTO _loose SELECT DISTINCT row_l, row_r FROM ("
            + " UNION ALL ".join(selects)
            + ")",
        )
    con.unregister("_sample")
    count = int((first(con, "SELECT count(*) FROM _loose") or (0,))[0])
    if count > LOOSE_PAIR_BUDGET:  # keep the cost bounded: fewer pairs, same shares
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(count, size=LOOSE_PAIR_BUDGET, replace=False))
        con.register("_keep", pl.DataFrame({"_i": keep.astype(np.int64)}))
        run(
            con,
            "CREATE OR REPLACE TABLE _loose AS SELECT row_l, row_r FROM (SELECT *, "
            "row_number() OVER (ORDER BY row_l, row_r) - 1 AS _i FROM _loose) "
            "SEMI JOIN _keep USING (_i)",
        )
        con.unregister("_keep")
        count = LOOSE_PAIR_BUDGET
    run(
        con,
        "CREATE OR REPLACE TABLE _loose AS SELECT l.row_l, l.row_r, p.row_l IS NOT NULL AS _in "
        "FROM _loose l LEFT JOIN pairs p ON p.row_l = l.row_l AND p.row_r = l.row_r",
    )
    return count, int(sample.size)
