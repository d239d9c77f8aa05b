"""Case tables once per engine: a level, or a whole comparison, evaluated on aligned value pairs
by the polars engine (numpy/rapidfuzz tests) or by the SQL engines (DuckDB and Spark: the shared
SQL translation in each dialect)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from crmclean.core.matching.comparators import LevelSpec, PairValues, build_level
from crmclean.core.matching.comparing import level_of_values
from crmclean.core.matching.spec import ComparisonSpec

ENGINES = [
    "polars",
    pytest.param("duckdb", marks=pytest.mark.duckdb),
    pytest.param("spark", marks=pytest.mark.spark),
]


def _spark(left: pl.DataFrame, right: pl.DataFrame, expression: Any) -> list[Any]:
    from crmclean.engines.spark_engine import udfs
    from crmclean.engines.sql.dialect import SPARK
    from crmclean.engines.sql.levels import Sides
    from spark_session import spark_session

    spark = spark_session()
    udfs.register(spark)
    compat = pl.CompatLevel.oldest()
    lt, rt = (
        spark.createDataFrame(
            side.with_row_index("_i").cast({"_i": pl.Int64}).to_arrow(compat_level=compat)
        )
        for side in (left, right)
    )
    lt.createOrReplaceTempView("lt")
    rt.createOrReplaceTempView("rt")
    types = {name: kind.upper() for name, kind in lt.dtypes}
    sql = expression(Sides(types, dialect=SPARK))
    rows = spark.sql(f"SELECT {sql} FROM lt l JOIN rt r ON l._i = r._i ORDER BY l._i").collect()
    return [row[0] for row in rows]


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

    run = _spark if engine == "spark" else _duckdb
    return [bool(x) for x in run(left, right, lambda s: level_sql(spec, column, s))]


def gammas(
    engine: str, comparison: ComparisonSpec, left: pl.DataFrame, right: pl.DataFrame
) -> list[int]:
    if engine == "polars":
        return [int(g) for g in level_of_values(comparison, left, right)]
    from crmclean.engines.sql.levels import gamma_sql

    run = _spark if engine == "spark" else _duckdb
    return [int(g) for g in run(left, right, lambda s: gamma_sql(comparison, s))]
