"""How precise the automatic merges are, estimated from a steward's labels on a random sample of
them: the share labelled `match`, with a 95% Wilson score interval (sound for small samples and
for shares near 1, where the normal approximation is not)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import PAIR_KEYS
from crmclean.core.matching import decisions as decisions_

Z_95 = 1.959964


@dataclass(frozen=True)
class PrecisionEstimate:
    labelled: int  # auto-merged pairs a steward labelled
    correct: int  # of them labelled `match`
    precision: float
    low: float  # 95% Wilson interval
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def sentence(self) -> str:
        return (
            f"estimated precision {self.precision:.2f} +- {self.half_width:.2f} from "
            f"{self.labelled} reviewed pairs (95% interval {self.low:.2f}-{self.high:.2f})"
        )


def wilson(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share `correct / n`."""
    if n == 0:
        return 0.0, 1.0
    share = correct / n
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def merged_pairs(pairs: pl.DataFrame, auto_merge: float) -> pl.DataFrame:
    """The pairs the run merged without a steward: match probability at or above auto_merge."""
    return pairs.filter(pl.col("match_probability") >= auto_merge).select(PAIR_KEYS)


def sample_to_label(
    merged: pl.DataFrame, decided: pl.DataFrame, size: int, seed: int
) -> pl.DataFrame:
    """A random sample of the merged pairs no steward has labelled yet."""
    open_pairs = merged.join(
        decisions_.normalise(decided).select(PAIR_KEYS), on=PAIR_KEYS, how="anti"
    )
    return open_pairs.sample(min(size, open_pairs.height), seed=seed, shuffle=True)


def estimate_precision(merged: pl.DataFrame, decided: pl.DataFrame) -> PrecisionEstimate | None:
    """The estimate from every merged pair with a decision; None when none has one."""
    labels = merged.select(PAIR_KEYS).join(decisions_.normalise(decided), on=PAIR_KEYS)
    labelled = labels.height
    if labelled == 0:
        return None
    correct = labels.filter(pl.col("decision") == "match").height
    low, high = wilson(correct, labelled)
    return PrecisionEstimate(
        labelled, correct, round(correct / labelled, 6), round(low, 6), round(high, 6)
    )


def pairs_with_values(
    pairs: pl.DataFrame, records: pl.DataFrame, golden: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Pairs as the review queue holds them: both records' values as `<column>_l`/`_r` (and
    their golden ids when the crosswalk is given), so a sample reads like the queue."""
    columns = [c for c in records.columns if c != "record_id"]
    if golden is not None:
        records = records.join(golden.select("record_id", "golden_id"), on="record_id", how="left")
        columns.append("golden_id")
    out = pairs
    for side in ("l", "r"):
        named = records.select(
            pl.col("record_id").alias(f"record_id_{side}"),
            *[pl.col(c).alias(f"{c}_{side}") for c in columns],
        )
        out = out.join(named, on=f"record_id_{side}", how="left")
    return out.with_columns(pl.lit("precision sample").alias("reason"))
