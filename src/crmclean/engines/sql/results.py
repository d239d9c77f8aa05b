"""The queries both SQL engines (DuckDB, Spark) answer the matching composition with, over their
`records`, `pairs` and `scored` tables, and the polars types their small results are given:
the values compared (`vals`), the training aggregates, the candidate pairs and the pairs above
a threshold by record_id."""

from __future__ import annotations

import polars as pl

from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.sql.dialect import Dialect
from crmclean.engines.sql.scoring import rule_labels


def values_sql(columns: list[str], types: dict[str, str], dialect: Dialect) -> str:
    """`vals`: the records' compared columns by `_row`, a blank text as missing (comparing's
    _blank_to_null)."""
    blanked = [
        f"CASE WHEN length({dialect.strip(dialect.ident(c))}) > 0 THEN {dialect.ident(c)} END "
        f"AS {dialect.ident(c)}"
        if dialect.is_text(types[c])
        else dialect.ident(c)
        for c in columns
    ]
    return f"SELECT _row, {', '.join(blanked) or '1 AS _none'} FROM records"


def present_sql(columns: list[str], dialect: Dialect) -> str:
    held = " OR ".join(f"{dialect.ident(c)} IS NOT NULL" for c in columns)
    return f"SELECT count(*) FROM records WHERE {held}"


def agreement_sql(columns: list[str], also_present: str | None, dialect: Dialect) -> str:
    """Records with every key part, and the ordered pairs agreeing on all of them (one row)."""
    keys = [dialect.key(c) for c in columns]
    complete = " AND ".join(f"{k} IS NOT NULL AND {k} <> ''" for k in keys)
    if also_present is not None:
        complete += f" AND {dialect.ident(also_present)} IS NOT NULL"
    return (
        "SELECT coalesce(sum(_n), 0), coalesce(sum(CAST(_n AS DOUBLE) * (_n - 1)), 0) FROM "
        f"(SELECT count(*) AS _n FROM records WHERE {complete} GROUP BY {', '.join(keys)}) _g"
    )


def level_counts_sql(name: str, table: str) -> str:
    """A comparison's gamma counts over a table of compared pairs (missing left out)."""
    return f"SELECT gamma_{name}, count(*) FROM {table} WHERE gamma_{name} >= 0 GROUP BY 1"


def candidate_pairs_sql(spec: MatchingSpec, dialect: Dialect) -> str:
    return (
        "SELECT l.record_id AS record_id_l, r.record_id AS record_id_r, "
        f"{rule_labels(spec, dialect)} AS blocking_rule, _rules FROM pairs p "
        "JOIN records l ON l._row = p.row_l JOIN records r ON r._row = p.row_r "
        "ORDER BY p.row_l, p.row_r"
    )


def candidate_pairs(result: pl.DataFrame) -> pl.DataFrame:
    return result.with_columns(
        pl.col("record_id_l", "record_id_r", "blocking_rule").cast(pl.String),
        pl.col("_rules").cast(pl.UInt32),
    )


def above_sql(spec: MatchingSpec, model: MatchModel, threshold: float, dialect: Dialect) -> str:
    """The scored pairs at or above `threshold` by record_id, with gammas and Bayes factors."""
    names = [c.name for c in model.comparisons]
    return (
        "SELECT l.record_id AS record_id_l, r.record_id AS record_id_r, match_weight, "
        f"match_probability, {rule_labels(spec, dialect)} AS blocking_rule, "
        + ", ".join([f"gamma_{n}" for n in names] + [f"bf_{n}" for n in names])
        + " FROM scored s JOIN records l ON l._row = s.row_l "
        "JOIN records r ON r._row = s.row_r "
        f"WHERE match_probability >= {float(threshold)!r} ORDER BY s.row_l, s.row_r"
    )


def pairs_above(result: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
    names = [c.name for c in model.comparisons]
    schema: dict[str, pl.DataType] = {"record_id_l": pl.String(), "record_id_r": pl.String()}
    schema |= {"blocking_rule": pl.String()} | {f"gamma_{n}": pl.Int8() for n in names}
    return result.with_columns(pl.col(name).cast(kind) for name, kind in schema.items())


def patterns(result: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Gamma patterns with their counts `_n`, typed."""
    schema: dict[str, pl.DataType] = {f"gamma_{n}": pl.Int8() for n in names}
    schema["_n"] = pl.UInt32()
    return result.with_columns(pl.col(name).cast(kind) for name, kind in schema.items())
