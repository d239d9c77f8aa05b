"""Compare each distinct pair of values once (as the polars engine does): a comparison's gamma
depends only on the values of the columns it reads, and candidate pairs repeat them (the same
first names, towns, dates of birth), so each comparison's level CASE runs on the distinct
(left values, right values) pairs among the candidates and is joined back to every pair.

`_ids` numbers each record's values per comparison (equal values, equal number; `dense_rank`
over the columns the comparison reads), `_rep_<name>` names one record holding each number.
"""

from __future__ import annotations

import duckdb

from crmclean.core.matching.comparing import used_columns
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.duckdb_engine.sql import ident, run
from crmclean.engines.sql.dialect import DUCKDB
from crmclean.engines.sql.levels import Sides, gamma_sql


def value_ids(con: duckdb.DuckDBPyConnection, spec: MatchingSpec) -> None:
    """`_ids(_row, v_<name> ...)` and `_rep_<name>(_vid, _rep)` for every comparison."""
    ranks = [
        f"dense_rank() OVER (ORDER BY {', '.join(ident(c) for c in used_columns(comparison))}) "
        f"AS {ident('v_' + comparison.name)}"
        for comparison in spec.comparisons
    ]
    run(con, f"CREATE OR REPLACE TABLE _ids AS SELECT _row, {', '.join(ranks)} FROM vals")
    for comparison in spec.comparisons:
        run(
            con,
            f"CREATE OR REPLACE TABLE {ident('_rep_' + comparison.name)} AS SELECT "
            f"{ident('v_' + comparison.name)} AS _vid, min(_row) AS _rep FROM _ids GROUP BY 1",
        )


def distinct_rows_sql(
    spec: MatchingSpec, types: dict[str, str], source: str, keep: list[str]
) -> str:
    """What comparing every pair of `source` gives (`keep`, gamma_<name> per comparison and
    the left side's term-frequency values), each comparison run once per distinct value pair.
    Needs value_ids() first."""
    sides = Sides(types)
    names = [comparison.name for comparison in spec.comparisons]
    ids = [f"il.{ident('v_' + n)} AS _l_{n}, ir.{ident('v_' + n)} AS _r_{n}" for n in names]
    tf_values = [
        f"lower({DUCKDB.string('lv.' + ident(c.column))}) AS _tfv_{c.name}"
        for c in spec.comparisons
        if c.term_frequency
    ]
    pairs = (
        f"SELECT {', '.join([*(f'p.{k}' for k in keep), *ids, *tf_values])} FROM {source} p "
        "JOIN _ids il ON il._row = p.row_l JOIN _ids ir ON ir._row = p.row_r"
        + (" JOIN vals lv ON lv._row = p.row_l" if tf_values else "")
    )
    ctes = [f"_p AS MATERIALIZED ({pairs})"]
    joins, gammas, hidden = [], [], []
    for comparison in spec.comparisons:
        n = comparison.name
        rep = ident("_rep_" + n)
        ctes.append(
            f"_g_{n} AS (SELECT d._l, d._r, {gamma_sql(comparison, sides)} AS gamma_{n} "
            f"FROM (SELECT DISTINCT _l_{n} AS _l, _r_{n} AS _r FROM _p) d "
            f"JOIN {rep} a ON a._vid = d._l JOIN vals l ON l._row = a._rep "
            f"JOIN {rep} b ON b._vid = d._r JOIN vals r ON r._row = b._rep)"
        )
        joins.append(f"JOIN _g_{n} ON _g_{n}._l = _p._l_{n} AND _g_{n}._r = _p._r_{n}")
        gammas.append(f"_g_{n}.gamma_{n}")
        hidden += [f"_l_{n}", f"_r_{n}"]
    exclude = f" EXCLUDE ({', '.join(hidden)})" if hidden else ""
    return (
        f"WITH {', '.join(ctes)} SELECT _p.*{exclude}"
        + "".join(f", {g}" for g in gammas)
        + f" FROM _p {' '.join(joins)}"
    )
