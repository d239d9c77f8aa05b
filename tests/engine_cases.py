"""Case tables once per engine: a level, or a whole comparison, evaluated on aligned value pairs
by the polars engine (numpy/rapidfuzz tests) or by the DuckDB engine (its SQL translation)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from crmclean.core.matching.comparators import LevelSpec, PairValues, build_level
from crmclean.core.matching.comparing import level_of_values
from crmclean.core.matching.spec import ComparisonSpec

ENGINES = ["polars", pytest.param("duckdb", marks=pytest.mark.duckdb)]


def _duckdb(left: pl.DataFrame, right: pl.DataFrame, expression: Any) -> list[Any]:
    import duckdb

    from crmclean.engines.duckdb_engine import udfs
    from crmclean.engines.sql.levels import Sides

    con = duckdb.connect()
    udfs.register(con)
    con.register("lt", left.with_row_index("_i"))
    con.register("rt", right.with_row_index("_i"))
    types = {str(r[0]): str(r[1]).upper() for r in con.execute("DESCRIBE lt").fetchall()}
    sql = expression(Sides(types))
    rows = con.execute(f"SELECT {sql} FROM lt l JOIN rt r USING (_i) ORDER BY _i").fetchall()
    con.close()
    return [row[0] for row in rows]


def level_holds(
    engine: str, spec: LevelSpec, column: str, left: pl.DataFrame, right: pl.DataFrame
) -> list[bool]:
    if engine == "polars":
        return [bool(x) for x in build_level(spec, column)(PairValues(left, right))]
    from crmclean.engines.sql.levels import level_sql

    return [bool(x) for x in _duckdb(left, right, lambda s: level_sql(spec, column, s))]


def gammas(
    engine: str, comparison: ComparisonSpec, left: pl.DataFrame, right: pl.DataFrame
) -> list[int]:
    if engine == "polars":
        return [int(g) for g in level_of_values(comparison, left, right)]
    from crmclean.engines.sql.levels import gamma_sql

    return [int(g) for g in _duckdb(left, right, lambda s: gamma_sql(comparison, s))]
