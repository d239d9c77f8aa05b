"""How many true matches does blocking miss? An estimate from the trained model, for stewards.

Precision can be inspected (look at merged pairs); recall cannot: a pair that blocking never
builds is never seen. So: take a random sample of records, pair each with every record sharing
any ONE column that a blocking rule or a comparison uses (a far looser blocking: one changed
field cannot hide a pair from it), score those pairs with the trained model, and compare the
expected matches (sum of match probabilities) inside and outside the real candidate pairs.
Pairs that differ on every such column are missed by both, so this is an upper bound on recall.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import CodeCache, compare
from crmclean.core.matching.scoring import MatchModel, score
from crmclean.core.matching.spec import MatchingSpec

SAMPLE_RECORDS = 2_000
LOOSE_PAIR_BUDGET = 300_000  # pairs scored for the estimate, at most
HIGH = 0.5  # a loose pair counts as a match from this probability on


def _key(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()


def loose_pairs(
    frame: pl.DataFrame, spec: MatchingSpec, sample: np.ndarray[Any, Any]
) -> pl.DataFrame:
    """`row_l < row_r` pairs of a sampled record and any record sharing one blocking or
    comparison column
    (blocks above 5 x max_block_size skipped: placeholders, common initials)."""
    columns = loose_columns(spec)
    limit = 5 * spec.max_block_size
    chosen = pl.DataFrame({"_row": sample.astype(np.uint32)})
    found: list[pl.DataFrame] = []
    for column in columns:
        keyed = frame.select(
            pl.int_range(frame.height, dtype=pl.UInt32).alias("_row"), _key(column).alias("_k")
        ).filter(pl.col("_k").is_not_null() & (pl.col("_k") != ""))
        left = keyed.join(chosen, on="_row", how="semi")
        # only the blocks of sampled records are counted: a few thousand keys, not a million
        partners = keyed.join(left.select("_k").unique(), on="_k", how="semi")
        small = partners.group_by("_k").agg(pl.len().alias("_n")).filter(pl.col("_n") <= limit)
        partners = partners.join(small.select("_k"), on="_k", how="semi")
        pairs = left.join(partners, on="_k", suffix="_o").filter(pl.col("_row") != pl.col("_row_o"))
        found.append(
            pairs.select(
                pl.min_horizontal("_row", "_row_o").alias("row_l"),
                pl.max_horizontal("_row", "_row_o").alias("row_r"),
            )
        )
    if not found:
        return pl.DataFrame(schema={"row_l": pl.UInt32, "row_r": pl.UInt32})
    return pl.concat(found).unique().sort("row_l", "row_r")


def estimate_recall(
    frame: pl.DataFrame,
    blocked: pl.DataFrame,
    spec: MatchingSpec,
    model: MatchModel,
    *,
    seed: int,
    cache: CodeCache | None = None,
) -> dict[str, Any]:
    """Expected matches among the loose pairs of sampled records, inside and outside `blocked`
    (the candidate pairs, `row_l`, `row_r`), and the recall that implies."""
    n = frame.height
    sample = sampled_records(n, seed)
    size = sample.size
    pairs = loose_pairs(frame, spec, sample)
    if pairs.height > LOOSE_PAIR_BUDGET:  # keep the cost bounded: fewer pairs, same shares
        pairs = pairs.sample(LOOSE_PAIR_BUDGET, seed=seed).sort("row_l", "row_r")
    inside = pairs.join(
        blocked.select(pl.col("row_l").cast(pl.UInt32), pl.col("row_r").cast(pl.UInt32)),
        on=["row_l", "row_r"],
        how="semi",
    ).with_columns(pl.lit(True).alias("_in"))
    pairs = pairs.join(inside, on=["row_l", "row_r"], how="left").with_columns(
        pl.col("_in").fill_null(False)
    )
    p = score(compare(frame, pairs, spec.comparisons, cache), model).select(
        "_in", "match_probability"
    )
    likely = p.filter(pl.col("match_probability") >= HIGH)
    found = float(likely.filter(pl.col("_in")).get_column("match_probability").sum())
    missed = float(likely.filter(~pl.col("_in")).get_column("match_probability").sum())
    return recall_summary(n, size, pairs.height, found, missed)


def sampled_records(n: int, seed: int) -> np.ndarray[Any, Any]:
    """The records whose loose pairs are scored (sorted positions in record_id order)."""
    rng = np.random.default_rng(seed)
    size = min(n, SAMPLE_RECORDS)
    return np.sort(rng.choice(n, size=size, replace=False)) if n else np.zeros(0, np.int64)


def loose_columns(spec: MatchingSpec) -> list[str]:
    """The columns a loose pair may share: every blocking or comparison column but the word
    columns (a single word, a first name, is far too common to pair on)."""
    words = {c for rule in spec.blocking for c in rule.any_word}
    return sorted(
        ({c for rule in spec.blocking for c in rule.columns} | {c.column for c in spec.comparisons})
        - words
    )


def recall_summary(
    n: int, size: int, loose_pairs_scored: int, found: float, missed: float
) -> dict[str, Any]:
    """The estimate from the expected matches (probability >= HIGH) found and missed."""
    # Only pairs the model finds more likely than not: the many loose pairs of near-zero
    # probability (namesakes, neighbours) would otherwise add up to phantom matches.
    total = found + missed
    # each pair is seen from either of its records: sampled with probability ~ 2 size / n
    scale = n / (2.0 * size) if size else 0.0
    return {
        "method": "sampled records paired on any one blocking or comparison column, scored by "
        "the model; pairs with match probability >= 0.5 counted by their probability",
        "sampled_records": size,
        "loose_pairs_scored": loose_pairs_scored,
        "expected_matches_found": found,
        "expected_matches_missed": missed,
        "estimated_recall": found / total if total > 0 else 1.0,
        "estimated_missed_pairs": missed * scale,
    }
