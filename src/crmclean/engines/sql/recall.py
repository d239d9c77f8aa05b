"""The blocking recall estimate's loose pairs (core/matching/recall.py) as SQL, shared by the
DuckDB and Spark engines: the sampled records (`_sample (_row)`) paired with every record
sharing any one blocking or comparison column, blocks above 5 x max_block_size skipped. Above
the pair budget each engine keeps the seeded sample of positions numpy drew."""

from __future__ import annotations

from crmclean.core.matching.recall import HIGH
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.sql.dialect import Dialect

_NONE = "SELECT CAST(0 AS BIGINT) AS row_l, CAST(0 AS BIGINT) AS row_r WHERE false"


def loose_sql(spec: MatchingSpec, columns: list[str], dialect: Dialect) -> str:
    """The distinct loose pairs `(row_l, row_r)` of `records` over `columns` (loose_columns)."""
    limit = 5 * spec.max_block_size
    selects = []
    for column in columns:
        key = dialect.key(column)
        keyed = f"(SELECT _row, {key} AS _k FROM records WHERE {key} <> '')"
        selects.append(
            f"SELECT least(a._row, b._row) AS row_l, greatest(a._row, b._row) AS row_r "
            f"FROM {keyed} a {dialect.semi_join} _sample s ON s._row = a._row "
            f"JOIN (SELECT _k FROM {keyed} _g GROUP BY _k HAVING count(*) <= {limit}) k "
            f"ON k._k = a._k JOIN {keyed} b ON b._k = a._k AND b._row <> a._row"
        )
    union = " UNION ALL ".join(selects) if selects else _NONE
    return f"SELECT DISTINCT row_l, row_r FROM ({union}) _u"


# each loose pair and whether blocking found it (`pairs`)
IN_SQL = (
    "SELECT l.row_l, l.row_r, p.row_l IS NOT NULL AS _in "
    "FROM _loose l LEFT JOIN pairs p ON p.row_l = l.row_l AND p.row_r = l.row_r"
)


def sums_sql(scored: str) -> str:
    """The match probability above HIGH of the loose pairs blocking found and of those it
    missed (one row), from `scored` (a query with `_in` and `match_probability`)."""
    return (
        "SELECT coalesce(sum(CASE WHEN _in THEN match_probability END), 0), "
        "coalesce(sum(CASE WHEN NOT _in THEN match_probability END), 0) "
        f"FROM ({scored}) _s WHERE match_probability >= {HIGH!r}"
    )
