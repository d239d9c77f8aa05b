"""Comparing: one `gamma_<comparison>` level index per candidate pair and comparison.

Pairs refer to records by position (`row_l`, `row_r`) in a frame sorted by record_id. Each
comparison is evaluated once per UNIQUE pair of values (typically far fewer than pairs), then
joined back by code, so a common surname pair costs one metric call however often it occurs.

Level indices follow Splink: -1 is the null level, 0 the last level (else), and the first listed
level has the highest index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparators import (
    ElseLevel,
    LevelSpec,
    NullLevel,
    PairValues,
    build_level,
)
from crmclean.core.matching.spec import ComparisonSpec

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Level:
    """One level of a comparison as scoring and explanations see it."""

    gamma: int
    label: str
    spec: LevelSpec

    @property
    def is_null(self) -> bool:
        return self.gamma == -1


def comparison_levels(comparison: ComparisonSpec) -> list[Level]:
    """The levels with their gamma index: the null level (-1) first, else (0) last."""
    specs = list(comparison.levels)
    null = specs.pop(0) if specs and specs[0].type == "null" else NullLevel()
    if not specs or specs[-1].type != "else":
        specs.append(ElseLevel())
    top = len(specs) - 1
    levels = [Level(-1, null.label or "null (either side missing)", null)]
    for position, spec in enumerate(specs):
        levels.append(Level(top - position, spec.label_or_default, spec))
    return levels


def used_columns(comparison: ComparisonSpec) -> list[str]:
    columns = [comparison.column]
    for level in comparison.levels:
        extras = (level.column, getattr(level, "other", None), *getattr(level, "columns", []))
        for extra in (*extras, *level.requires_equal):
            if extra and extra not in columns:
                columns.append(extra)
    return columns


def exact_level(comparison: ComparisonSpec) -> Level | None:
    """The level a term-frequency adjustment applies to: the first plain `exact` level."""
    for level in comparison_levels(comparison):
        if level.spec.type == "exact" and level.spec.column is None:
            return level
    return None


def _blank_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().str.len_chars() > 0).then(pl.col(c)).alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def value_codes(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, IntArray]:
    """The distinct value combinations (in first-seen order) and each record's code into them."""
    values = _blank_to_null(frame.select(columns))
    distinct = values.unique(maintain_order=True).with_row_index("_code")
    codes = values.join(distinct, on=columns, how="left", nulls_equal=True, maintain_order="left")
    return distinct.drop("_code"), codes.get_column("_code").to_numpy().astype(np.int64)


def unique_pairs(
    codes: IntArray, row_l: IntArray, row_r: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Unordered unique code pairs (lo, hi) and, per pair, its index into them."""
    a, b = codes[row_l], codes[row_r]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = (lo.astype(np.uint64) << np.uint64(32)) | hi.astype(np.uint64)
    keys, inverse = np.unique(key, return_inverse=True)
    u_lo = (keys >> np.uint64(32)).astype(np.int64)
    u_hi = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return u_lo, u_hi, inverse.astype(np.int64)


def level_of_values(
    comparison: ComparisonSpec,
    left: pl.DataFrame,
    right: pl.DataFrame,
    rows: tuple[IntArray, IntArray] | None = None,
    value_ids: dict[tuple[str, bool], IntArray] | None = None,
) -> IntArray:
    """The gamma of each aligned value pair: the first level that holds, -1 when a side is null.

    With `rows`, `left` is a table of distinct values (and `right` the same table) and the pairs
    are its rows `rows[0][i]` and `rows[1][i]`; `value_ids` keeps the ids of its values between
    calls on the same table."""
    levels = comparison_levels(comparison)
    if rows is None:
        values = PairValues(left, right)
    else:
        values = PairValues.of_rows(left, *rows, value_ids=value_ids)
    gamma = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
    for level in levels:
        unset = gamma == np.iinfo(np.int64).min
        if not unset.any():
            break
        column = comparison.column if level.is_null else level.spec.column or comparison.column
        values.active = unset
        holds = build_level(level.spec, column)(values)
        gamma[unset & holds] = level.gamma
    gamma[gamma == np.iinfo(np.int64).min] = 0
    return gamma


def term_frequencies(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Per (lower-cased) value, the chance that another non-null record holds it too:
    `_value, _tf` = (n_v - 1) / (n - 1).

    It is counted like the exact level's u, sum n_v (n_v - 1) / (n (n - 1)), which leaves out a
    record paired with itself; n_v / n counted the record once more and took a bit of evidence
    from every value that two records share (an e-mail address held by two records weighed as
    if four held it). Own 10k F1 unchanged, Faker 10k 0.830 -> 0.839, FEBRL 1 0.904 -> 0.917.
    """
    values = _blank_to_null(frame.select(column)).get_column(column).cast(pl.String)
    values = values.str.to_lowercase().drop_nulls()
    others = max(values.len() - 1, 1)
    return (
        values.alias("_value")
        .value_counts(name="_n")
        .select("_value", ((pl.col("_n") - 1) / others).alias("_tf"))
    )


class CodeCache(dict[tuple[str, ...], tuple[pl.DataFrame, IntArray]]):
    """Value codes of one frame per column set, and its term frequencies per column: the
    blocked pairs, the random pairs of training and the recall estimate share them."""

    def __init__(self) -> None:
        super().__init__()
        self.term_frequencies: dict[tuple[tuple[str, ...], str], FloatArray] = {}
        self.value_ids: dict[tuple[str, ...], dict[tuple[str, bool], IntArray]] = {}


def compare(
    frame: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: list[ComparisonSpec],
    cache: CodeCache | None = None,
) -> pl.DataFrame:
    """Add `gamma_<name>` (Int8) per comparison, and `tf_<name>` for term-frequency ones.

    `frame` is sorted by record_id; `pairs` holds `row_l`, `row_r` positions into it. `cache`
    keeps the value codes of `frame` between calls on the same frame (blocked and random pairs).
    """
    row_l = pairs.get_column("row_l").to_numpy().astype(np.int64)
    row_r = pairs.get_column("row_r").to_numpy().astype(np.int64)
    columns: list[pl.Series] = []
    cache = CodeCache() if cache is None else cache
    for comparison in comparisons:
        key = tuple(used_columns(comparison))
        if key not in cache:
            cache[key] = value_codes(frame, list(key))
        distinct, codes = cache[key]
        u_lo, u_hi, inverse = unique_pairs(codes, row_l, row_r)
        ids = cache.value_ids.setdefault(key, {})
        gamma = level_of_values(comparison, distinct, distinct, (u_lo, u_hi), ids)
        columns.append(pl.Series(f"gamma_{comparison.name}", gamma[inverse], dtype=pl.Int8))
        if comparison.term_frequency:
            if (key, comparison.column) not in cache.term_frequencies:
                cache.term_frequencies[key, comparison.column] = _distinct_tf(
                    frame, distinct, comparison.column
                )
            tf = cache.term_frequencies[key, comparison.column]
            columns.append(_tf_column(tf, comparison, u_lo, gamma).gather(inverse))
    return pairs.with_columns(columns)


def _distinct_tf(frame: pl.DataFrame, distinct: pl.DataFrame, column: str) -> FloatArray:
    """Per row of `distinct`: the term frequency of its `column` value (NaN where missing)."""
    keyed = distinct.select(pl.col(column).cast(pl.String).str.to_lowercase().alias("_value"))
    tf = keyed.join(term_frequencies(frame, column), on="_value", how="left", maintain_order="left")
    return tf.get_column("_tf").cast(pl.Float64).fill_null(np.nan).to_numpy()


def _tf_column(
    tf: FloatArray, comparison: ComparisonSpec, u_lo: IntArray, gamma: IntArray
) -> pl.Series:
    """Per unique value pair: the value's frequency (`tf`, per distinct value row) when the
    pair is at the exact level (both sides then hold the same value: the left one's is read)."""
    name = f"tf_{comparison.name}"
    exact = exact_level(comparison)
    if exact is None:
        return pl.Series(name, [None] * len(u_lo), dtype=pl.Float64)
    values = np.where(gamma == exact.gamma, tf[u_lo], np.nan)
    return pl.Series(name, values, dtype=pl.Float64).fill_nan(None)
