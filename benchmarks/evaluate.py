"""One evaluator for every matcher in the benchmark: clusters against the synthetic truth.

The scoring itself is crmclean's own (crmclean.core.matching.evaluation: pairwise and
B-cubed precision/recall/F1 from one contingency table), so the benchmark and the product
agree on what F1 means. This wrapper adds the benchmark's rule for incomplete output: a truth
record a tool did not return is scored as a singleton of its own, so dropping records can
never raise a score, and the number dropped is reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

from crmclean.core.matching.evaluation import evaluate as crmclean_evaluate


@dataclass(frozen=True)
class Scores:
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    records: int
    records_missing: int
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> Scores:
    """Score `clusters` (record_id, cluster_id) against `truth` (record_id, entity_id)."""
    truth = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    predicted = clusters.select(
        pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String)
    ).unique(subset="record_id", keep="first")
    missing = truth.join(predicted, on="record_id", how="anti").select(
        "record_id", (pl.lit("__missing__:") + pl.col("record_id")).alias("cluster_id")
    )
    result = crmclean_evaluate(pl.concat([predicted, missing]), truth)
    return Scores(
        pairwise_precision=result.pairwise.precision,
        pairwise_recall=result.pairwise.recall,
        pairwise_f1=result.pairwise.f1,
        bcubed_precision=result.bcubed.precision,
        bcubed_recall=result.bcubed.recall,
        bcubed_f1=result.bcubed.f1,
        records=truth.height,
        records_missing=missing.height,
        predicted_pairs=result.predicted_pairs,
        true_pairs=result.true_pairs,
        true_positive_pairs=result.correct_pairs,
    )
