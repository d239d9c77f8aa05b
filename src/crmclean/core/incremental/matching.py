"""Matching for an incremental run: the new pairs compared and scored with the previous run's
model, and only the clusters they touch clustered again (with the same guards).

Clusters are components of the merge edges, and every guard (size, density, bridges,
cannot-links) looks at one component at a time: clustering the touched components alone gives
what clustering everything would give them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID, REVIEW_SCHEMA
from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.comparing import compare, exact_level, term_frequencies
from crmclean.core.matching.lookup import needed_columns
from crmclean.core.matching.reach import reachability
from crmclean.core.matching.scoring import MatchModel, score
from crmclean.core.matching.spec import MatchingSpec


def _rows(records: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Pairs by record id -> row positions in `records` (sorted by record_id)."""
    rows = records.select(RECORD_ID, pl.int_range(records.height, dtype=pl.Int64).alias("_row"))
    return pairs.join(
        rows.rename({RECORD_ID: "record_id_l", "_row": "row_l"}), on="record_id_l"
    ).join(rows.rename({RECORD_ID: "record_id_r", "_row": "row_r"}), on="record_id_r")


def matching_records(whole: pl.DataFrame, spec: MatchingSpec, ids: pl.Series) -> pl.DataFrame:
    """The columns matching reads of the records `ids`, sorted by record_id."""
    return (
        whole.filter(pl.col(RECORD_ID).is_in(ids.implode()))
        .select(pl.col(RECORD_ID).cast(pl.String), *needed_columns(spec))
        .sort(RECORD_ID)
    )


def score_pairs(
    whole: pl.DataFrame, pairs: pl.DataFrame, spec: MatchingSpec, model: MatchModel
) -> pl.DataFrame:
    """The candidate pairs (`record_id_l, record_id_r, _rule`) compared and scored as the full
    run's engine scores them, term frequencies counted over all of `whole`; in the pairs
    contract's columns (core.contracts)."""
    ids = pl.concat([pairs["record_id_l"], pairs["record_id_r"]]).unique()
    records = matching_records(whole, spec, ids)
    positioned = _rows(records, pairs).sort("row_l", "row_r")
    compared = compare(records, positioned, spec.comparisons)
    for comparison in spec.comparisons:
        exact = exact_level(comparison)
        if not comparison.term_frequency or exact is None:
            continue
        # a value's frequency among today's records, not among the few compared here
        counts = term_frequencies(whole.select(comparison.column), comparison.column)
        left = records.select(
            pl.col(comparison.column).cast(pl.String).str.to_lowercase().alias("_value")
        ).with_row_index("row_l")
        tf = (
            compared.select(pl.col("row_l").cast(pl.UInt32))
            .join(left, on="row_l", how="left", maintain_order="left")
            .join(counts, on="_value", how="left", maintain_order="left")
            .get_column("_tf")
        )
        gamma = compared.get_column(f"gamma_{comparison.name}")
        compared = compared.with_columns(
            pl.when(gamma == exact.gamma).then(tf).otherwise(None).alias(f"tf_{comparison.name}")
        )
    scored = score(compared, model)
    labels = {i: rule.label for i, rule in enumerate(spec.blocking)}
    names = [c.name for c in model.comparisons]
    return scored.select(
        "record_id_l",
        "record_id_r",
        "match_weight",
        "match_probability",
        pl.col("_rule").replace_strict(labels, return_dtype=pl.String).alias("blocking_rule"),
        *(f"gamma_{n}" for n in names),
        *(f"bf_{n}" for n in names),
    ).sort("record_id_l", "record_id_r")


@dataclass(frozen=True)
class Reclustered:
    clusters: pl.DataFrame  # record_id, cluster_id of the records clustered again
    cut: pl.DataFrame  # REVIEW_SCHEMA: merge-level pairs the guards cut among them
    stats: dict[str, object]


def recluster(
    whole: pl.DataFrame,
    ids: pl.Series,
    pairs: pl.DataFrame,
    spec: MatchingSpec,
    model: MatchModel,
    must: pl.DataFrame,
    cannot: pl.DataFrame,
) -> Reclustered:
    """Cluster the records `ids` (whole components) on the pairs among them."""
    records = matching_records(whole, spec, ids)
    inside = pl.col("record_id_l").is_in(ids.implode()) & pl.col("record_id_r").is_in(ids.implode())
    edges = _rows(
        records, pairs.filter(inside).select("record_id_l", "record_id_r", "match_probability")
    )
    auto_merge = spec.thresholds.merge_at
    labels, cut, stats = cluster(
        records.height,
        edges.select("row_l", "row_r", "match_probability"),
        spec.clustering,
        auto_merge,
        must_link=_rows(records, must).select("row_l", "row_r"),
        cannot_link=_rows(records, cannot).select("row_l", "row_r"),
        reach=reachability(records, spec, model, auto_merge),
    )
    record_ids = records.get_column(RECORD_ID)
    clusters = pl.DataFrame(
        {RECORD_ID: record_ids, "cluster_id": record_ids.gather(np.asarray(labels))}
    )
    ids_np = record_ids.to_numpy()
    review = cut.select(
        pl.Series("record_id_l", ids_np[cut["row_l"].to_numpy()], dtype=pl.String),
        pl.Series("record_id_r", ids_np[cut["row_r"].to_numpy()], dtype=pl.String),
        "match_probability",
        "reason",
    ).cast(pl.Schema(REVIEW_SCHEMA))
    return Reclustered(clusters, review, stats)
