"""The blocking recall estimate's loose pairs on DuckDB (the shared SQL: engines/sql/recall.py).
Above the pair budget a seeded sample is kept (drawn by numpy, not by polars' `sample`: the
estimate may differ from the polars engine's in the last digits)."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from crmclean.core.matching.recall import LOOSE_PAIR_BUDGET, loose_columns, sampled_records
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.duckdb_engine.sql import first, run
from crmclean.engines.sql.dialect import DUCKDB
from crmclean.engines.sql.recall import IN_SQL, loose_sql


def loose_pairs_sql(
    con: duckdb.DuckDBPyConnection, spec: MatchingSpec, n: int, seed: int
) -> tuple[int, int]:
    """Table `_loose (row_l, row_r, _in)`; how many pairs, how many sampled records."""
    sample = sampled_records(n, seed)
    con.register("_sample", pl.DataFrame({"_row": sample.astype(np.int64)}))
    run(con, f"CREATE OR REPLACE TABLE _loose AS {loose_sql(spec, loose_columns(spec), DUCKDB)}")
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
    run(con, f"CREATE OR REPLACE TABLE _loose AS {IN_SQL}")
    return count, int(sample.size)
