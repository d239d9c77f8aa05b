"""Accuracy of a clustering against known entities: pairwise and B-cubed precision/recall/F1.

Pairwise counts record pairs put together; B-cubed averages, per record, the share of its
cluster that is truly its entity (precision) and of its entity that landed in its cluster
(recall). Both come from one contingency table of (cluster, entity) counts: no pair is built.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Evaluation:
    records: int  # records present in both the clusters and the truth
    missing_from_clusters: int
    missing_from_truth: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    pairwise: Scores
    bcubed: Scores

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _pairs(n: pl.Expr) -> pl.Expr:
    return (n.cast(pl.Int64) * (n.cast(pl.Int64) - 1) // 2).sum()


def evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> Evaluation:
    """`clusters` has record_id, cluster_id; `truth` has record_id, entity_id."""
    c = clusters.select(pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String))
    t = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    both = c.join(t, on="record_id", how="inner")
    table = both.group_by("cluster_id", "entity_id").agg(pl.len().alias("n"))
    cluster_n = both.group_by("cluster_id").agg(pl.len().alias("a"))
    entity_n = both.group_by("entity_id").agg(pl.len().alias("b"))
    correct = int(table.select(_pairs(pl.col("n"))).item() or 0)
    predicted = int(cluster_n.select(_pairs(pl.col("a"))).item() or 0)
    true = int(entity_n.select(_pairs(pl.col("b"))).item() or 0)
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    cells = table.join(cluster_n, on="cluster_id").join(entity_n, on="entity_id")
    records = both.height
    if records:
        sums = cells.select(
            (pl.col("n") * pl.col("n") / pl.col("a")).sum().alias("p"),
            (pl.col("n") * pl.col("n") / pl.col("b")).sum().alias("r"),
        ).row(0)
        b_precision, b_recall = float(sums[0]) / records, float(sums[1]) / records
    else:
        b_precision = b_recall = 1.0
    return Evaluation(
        records=records,
        missing_from_clusters=t.join(c, on="record_id", how="anti").height,
        missing_from_truth=c.join(t, on="record_id", how="anti").height,
        true_pairs=true,
        predicted_pairs=predicted,
        correct_pairs=correct,
        pairwise=Scores(precision, recall, _f1(precision, recall)),
        bcubed=Scores(b_precision, b_recall, _f1(b_precision, b_recall)),
    )
