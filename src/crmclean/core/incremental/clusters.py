"""Which previous clusters an incremental run must cluster again: those holding a changed or
deleted record, and every cluster the new pairs or decisions join to them at merge level,
closed over the merge edges (a guard judges a whole component, so it gets the whole one)."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.clustering import components

_NEW = "\x00new:"  # a delta record's own cluster until it is clustered again


def touched_clusters(
    previous: pl.DataFrame,
    delta: pl.Series,
    seeded: pl.Series,
    gone: pl.Series,
    merge_edges: pl.DataFrame,
) -> pl.Series:
    """Previous cluster ids to cluster again. `previous`: record_id, cluster_id; `seeded`:
    records whose previous cluster is clustered again (changed, deleted, pairs rescored);
    `merge_edges`: record_id_l, record_id_r of today's merge-level pairs and must-links."""
    held = previous.select(pl.col(RECORD_ID), pl.col("cluster_id").cast(pl.String))
    seeds = held.filter(pl.col(RECORD_ID).is_in(seeded.implode())).get_column("cluster_id")
    today = pl.concat(
        [
            held.filter(~pl.col(RECORD_ID).is_in(gone.implode())),
            pl.DataFrame({RECORD_ID: delta, "cluster_id": _NEW + delta}),
        ]
    )
    seeds = pl.concat([seeds, _NEW + delta]).unique()
    ends = (
        merge_edges.join(
            today.rename({RECORD_ID: "record_id_l", "cluster_id": "_cl"}), on="record_id_l"
        )
        .join(today.rename({RECORD_ID: "record_id_r", "cluster_id": "_cr"}), on="record_id_r")
        .filter(pl.col("_cl") != pl.col("_cr"))
        .select("_cl", "_cr")
    )
    nodes = pl.concat([seeds, ends["_cl"], ends["_cr"]]).unique().sort()
    index = pl.DataFrame({"_c": nodes, "_i": np.arange(nodes.len(), dtype=np.int64)})
    coded = ends.join(index.rename({"_c": "_cl", "_i": "_l"}), on="_cl").join(
        index.rename({"_c": "_cr", "_i": "_r"}), on="_cr"
    )
    labels = components(nodes.len(), coded["_l"].to_numpy(), coded["_r"].to_numpy())
    at = index.filter(pl.col("_c").is_in(seeds.implode()))["_i"].to_numpy()
    chosen = nodes.filter(pl.Series(np.isin(labels, labels[at])))
    return chosen.filter(~chosen.str.starts_with(_NEW))
