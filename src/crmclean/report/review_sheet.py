"""The review queue as a spreadsheet steward reads it: beside both (masked) values of each field,
whether they agree (same / similar / different / missing, judged on the real values or the
comparison's level, as on the full screen) and each comparison's weight, with the prior and the
match weight, so a pair can be decided even when `S*** / S***` is all the sheet shows."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from crmclean.report.review_console import comparison_names, value_columns
from crmclean.report.review_fields import INVALID, SIMILAR

AGREE = "_agree"
WEIGHT = "_weight"


def _blank_is_null(column: str, alias: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).alias(alias)


def value_agreement(queue: pl.DataFrame, column: str) -> pl.Series:
    """same / similar / different / missing for each pair, judged on the real values."""
    pair = queue.select(_blank_is_null(f"{column}_l", "a"), _blank_is_null(f"{column}_r", "b"))
    folded = pair.select(pl.col(c).str.to_lowercase().fill_null("").alias(c) for c in ("a", "b"))
    similarity = process.cpdist(
        folded.get_column("a").to_list(),
        folded.get_column("b").to_list(),
        scorer=JaroWinkler.normalized_similarity,
        workers=-1,
    )
    a, b = pl.col("a"), pl.col("b")
    return (
        pair.with_columns(pl.Series("sim", similarity, dtype=pl.Float64))
        .select(
            pl.when(a.is_null() | b.is_null())
            .then(pl.lit("missing"))
            .when(a == b)
            .then(pl.lit("same"))
            .when((a.str.to_lowercase() == b.str.to_lowercase()) | (pl.col("sim") >= SIMILAR))
            .then(pl.lit("similar"))
            .otherwise(pl.lit("different"))
            .alias(f"{column}{AGREE}")
        )
        .to_series()
    )


def level_agreement(name: str, top: int | None) -> pl.Expr:
    """A comparison's level as a word, as the screen says it: the top level same, level 0
    different, the null level missing, anything between similar."""
    gamma = pl.col(f"gamma_{name}").cast(pl.Int64)
    top_level = gamma >= top if top is not None else pl.lit(False)
    return (
        pl.when(gamma < 0)
        .then(pl.lit("missing"))
        .when(top_level)
        .then(pl.lit("same"))
        .when(gamma == 0)
        .then(pl.lit("different"))
        .otherwise(pl.lit("similar"))
        .alias(f"{name}{AGREE}")
    )


def _invalid(name: str, word: pl.Expr) -> pl.Expr:
    """`invalid` where both records hold a value the comparison could not use (an e-mail that
    was no e-mail, cleaned to empty), not `missing`: the sheet shows both values."""
    both = pl.all_horizontal(
        _blank_is_null(f"{name}_{s}", f"__{s}").is_not_null() for s in ("l", "r")
    )
    gamma = pl.col(f"gamma_{name}").cast(pl.Int64)
    return pl.when((gamma < 0) & both).then(pl.lit(INVALID)).otherwise(word).alias(f"{name}{AGREE}")


def with_agreement(queue: pl.DataFrame, levels: Mapping[str, Mapping[int, str]]) -> pl.DataFrame:
    """The queue with `<field>_agree` for every field shown on both sides or scored by a
    comparison, `<comparison>_weight` (log2 Bayes factor), and `prior` (what the weights leave
    of the match weight)."""
    scored = [c for c in comparison_names(queue.columns) if f"gamma_{c}" in queue.columns]
    shown = set(value_columns(queue.columns))
    words = [
        _invalid(c, level_agreement(c, max(levels[c]) if levels.get(c) else None))
        if c in shown
        else level_agreement(c, max(levels[c]) if levels.get(c) else None)
        for c in scored
    ]
    fields = sum((pl.col(f"bf_{c}").fill_null(0.0) for c in scored), pl.lit(0.0))
    out = queue.with_columns(
        *words,
        *[pl.col(f"bf_{c}").round(2).alias(f"{c}{WEIGHT}") for c in scored],
        (pl.col("match_weight") - fields).round(2).alias("prior")
        if "match_weight" in queue.columns
        else pl.lit(None, pl.Float64).alias("prior"),
    )
    plain = [c for c in value_columns(queue.columns) if c not in scored and c != "golden_id"]
    return out.with_columns(value_agreement(queue, c) for c in plain)


def sheet_columns(queue: pl.DataFrame) -> list[str]:
    """Per field: both values, the agreement, the weight (for a comparison); comparisons first,
    as on the screen. Comparisons without a column of their name (`contact`) have no values."""
    shown = [c for c in value_columns(queue.columns) if c != "golden_id"]
    scored = [c for c in comparison_names(queue.columns) if f"{c}{AGREE}" in queue.columns]
    order = [*scored, *[c for c in shown if c not in scored]]
    columns: list[str] = []
    for name in order:
        if name in shown:
            columns += [f"{name}_l", f"{name}_r"]
        columns.append(f"{name}{AGREE}")
        if name in scored:
            columns.append(f"{name}{WEIGHT}")
    return columns
