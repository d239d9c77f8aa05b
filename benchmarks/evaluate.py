"""One evaluator for every matcher: clusters against the synthetic truth.

Pairwise precision/recall/F1 count record pairs placed together; B-cubed averages, per record,
how much of its predicted cluster is its true entity (precision) and how much of its true
entity is in its predicted cluster (recall). Both come from one contingency table of
(cluster_id, entity_id) counts, so nothing is quadratic in the cluster sizes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl


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


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pairs(n: pl.Expr) -> pl.Expr:
    return (n * (n - 1) // 2).sum()


def evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> Scores:
    """Score `clusters` (record_id, cluster_id) against `truth` (record_id, entity_id).

    A truth record the matcher did not return counts as a singleton of its own (and is
    reported in `records_missing`), so dropping records never improves a score.
    """
    truth = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    predicted = clusters.select(
        pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String)
    ).unique(subset="record_id", keep="first")
    joined = truth.join(predicted, on="record_id", how="left")
    missing = joined.get_column("cluster_id").null_count()
    joined = joined.with_columns(
        pl.col("cluster_id").fill_null(pl.lit("__missing__:") + pl.col("record_id"))
    )

    cells = joined.group_by("cluster_id", "entity_id").len("n_both")
    cluster_sizes = joined.group_by("cluster_id").len("n_cluster")
    entity_sizes = joined.group_by("entity_id").len("n_entity")
    cells = cells.join(cluster_sizes, on="cluster_id").join(entity_sizes, on="entity_id")

    true_positive = int(cells.select(_pairs(pl.col("n_both"))).item())
    predicted_pairs = int(cluster_sizes.select(_pairs(pl.col("n_cluster"))).item())
    true_pairs = int(entity_sizes.select(_pairs(pl.col("n_entity"))).item())
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0

    # Each cell holds n_both records that share the same per-record B-cubed values.
    records = joined.height
    sums = cells.select(
        (pl.col("n_both") ** 2 / pl.col("n_cluster")).sum().alias("p"),
        (pl.col("n_both") ** 2 / pl.col("n_entity")).sum().alias("r"),
    ).row(0)
    b_precision = sums[0] / records if records else 1.0
    b_recall = sums[1] / records if records else 1.0

    return Scores(
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
        records=records,
        records_missing=missing,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        true_positive_pairs=true_positive,
    )
