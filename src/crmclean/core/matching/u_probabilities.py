"""u probabilities: how often each comparison level occurs between two random records.

Sampled from random record pairs, then sharpened from value counts where those tell more: the
leading exact level exactly, and rare levels (same phone, same address) capped by the share of
record pairs that are equal on the columns they require, so their u shrinks as the data grows.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.spec import ComparisonSpec, MatchingSpec
from crmclean.core.matching.training_data import TrainingData

_PSEUDO_COUNT = 0.5  # keeps u of a level never seen among random pairs above zero


def u_sample_size(n_records: int, cap: int) -> int:
    """Ten random partners per record suffice for small data; large data takes the cap."""
    return min(cap, max(50_000, 10 * n_records), max(n_records * (n_records - 1) * 2, 0))


def random_pairs(n_records: int, n_pairs: int, seed: int) -> pl.DataFrame:
    """Distinct-record pairs drawn uniformly (with replacement), reproducible from the seed."""
    if n_records < 2:
        return pl.DataFrame(schema={"row_l": pl.UInt32, "row_r": pl.UInt32})
    n_pairs = min(n_pairs, n_records * (n_records - 1) // 2 * 4)
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n_records, n_pairs)
    right = rng.integers(0, n_records - 1, n_pairs)
    right = right + (right >= left)
    return pl.DataFrame({"row_l": left.astype(np.uint32), "row_r": right.astype(np.uint32)})


def level_counts(gammas: pl.Series) -> dict[int, int]:
    """How many pairs fall on each non-null level."""
    counts = gammas.filter(gammas >= 0).value_counts(name="_n")
    return dict(
        zip(
            counts.get_column(gammas.name).to_list(), counts.get_column("_n").to_list(), strict=True
        )
    )


def estimate_u(data: TrainingData, spec: MatchingSpec, seed: int) -> dict[str, dict[int, float]]:
    n_records = data.records()
    n_pairs = u_sample_size(n_records, spec.training.u_sample_pairs)
    sampled = data.random_level_counts(n_pairs, seed) if n_records >= 2 else {}
    result: dict[str, dict[int, float]] = {}
    for comparison in spec.comparisons:
        counts = sampled.get(comparison.name, {})
        gammas = [lv.gamma for lv in comparison_levels(comparison) if not lv.is_null]
        total = sum(counts.values()) + _PSEUDO_COUNT * len(gammas)
        u = {g: (counts.get(g, 0) + _PSEUDO_COUNT) / total for g in gammas}
        result[comparison.name] = _with_equality_bounds(
            data, comparison, _with_exact_u(data, comparison, u)
        )
    return result


def key_expressions(columns: list[str]) -> tuple[list[pl.Expr], pl.Expr]:
    """Each column trimmed and lower-cased, and whether all of them hold a value."""
    key = [pl.col(c).cast(pl.String).str.strip_chars().str.to_lowercase() for c in columns]
    return key, pl.all_horizontal(c.is_not_null() & (c != "") for c in key)


def frame_agreement(
    frame: pl.DataFrame, columns: list[str], also_present: str | None
) -> tuple[int, float]:
    """`TrainingData.agreement` of an in-memory frame."""
    key, complete = key_expressions(columns)
    keep = frame.select(complete).to_series()
    if also_present is not None:
        keep = keep & frame.get_column(also_present).is_not_null()
    values = frame.select(key).filter(keep)
    counts = values.group_by(columns).agg(pl.len().alias("_n")).get_column("_n").cast(pl.Float64)
    return values.height, float((counts * (counts - 1)).sum())


def _with_equality_bounds(
    data: TrainingData, comparison: ComparisonSpec, sampled: dict[int, float]
) -> dict[int, float]:
    """Cap a level's sampled u by the share of record pairs equal on the columns it requires
    equal (its own column for `exact`, plus `requires_equal`): that share bounds it from above.

    A rare level (same phone, same address) is seldom or never seen among the random pairs; its
    sampled u then sits near the pseudo-count floor, which does not shrink as the data grows,
    while the chance that two random records share a phone number does. The share is
    sum n_v (n_v - 1) / (n (n - 1)) over the values, n the records holding the comparison.
    """
    out = dict(sampled)
    levels = comparison_levels(comparison)
    null = levels[0].spec
    n = data.present(list(getattr(null, "columns", []) or [comparison.column]))
    shares: dict[tuple[str, ...], float | None] = {}
    for level in levels[2:]:  # the leading level's u is exact already (_with_exact_u)
        spec = level.spec
        if spec.u_probability or level.gamma not in out:
            continue
        columns = list(spec.requires_equal)
        if spec.type == "exact":
            columns.insert(0, spec.column or comparison.column)
        if not columns:
            continue
        if tuple(columns) not in shares:
            agreeing = data.agreement(columns, None)[1]
            shares[tuple(columns)] = max(agreeing, 1.0) / (n * (n - 1.0)) if n >= 2 else None
        bound = shares[tuple(columns)]
        if bound is not None and bound < out[level.gamma]:
            out[level.gamma] = bound
    return out


def _with_exact_u(
    data: TrainingData, comparison: ComparisonSpec, sampled: dict[int, float]
) -> dict[int, float]:
    """Replace the sampled u of a leading exact level by its exact value from value counts.

    Rare agreements (an e-mail shared by two records in a million) are seldom seen in a sample;
    the share of record pairs agreeing is sum n_v (n_v - 1) / (n (n - 1)) over the values.
    """
    first = next(lv for lv in comparison_levels(comparison) if not lv.is_null)
    if first.spec.type != "exact" or first.spec.u_probability or len(sampled) < 2:
        return sampled
    columns = [first.spec.column or comparison.column, *first.spec.requires_equal]
    n, agreeing = data.agreement(columns, comparison.column)
    if n < 2:
        return sampled
    exact = agreeing / (n * (n - 1.0))
    exact = max(exact, 1.0 / (n * (n - 1.0)))
    rest = 1.0 - sampled[first.gamma]
    return {g: exact if g == first.gamma else u * (1.0 - exact) / rest for g, u in sampled.items()}
