"""Clustering on Spark: connected components of the merge edges by iterative min-label
propagation with pointer jumping (no graph library jar), each round's labels checkpointed so
the lineage stays one round long. Only the components a guard could touch (three or more
records, or a cannot-link inside) come back to the driver, where core/matching/clustering.py
`cluster` repairs them exactly as the other engines do; every other record's label comes back
as two integers, and only for records that have a merge edge at all. A component's label is its
smallest row, so its cluster id is its smallest record_id, as on the other engines."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import DataFrame, SparkSession

from crmclean.core.contracts import RECORD_ID, REVIEW_SCHEMA
from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.engine import Clustering
from crmclean.core.matching.reach import reachability
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.spark_engine.sql import drop, first, frame_of, ident, number, small, table
from crmclean.engines.sql import components
from crmclean.engines.sql.dialect import SPARK

_EMPTY = "SELECT CAST(0 AS BIGINT) AS row_l, CAST(0 AS BIGINT) AS row_r WHERE false"


def _rows(spark: SparkSession, name: str, ids: np.ndarray, decided: pl.DataFrame) -> np.ndarray:
    """View `name (row_l, row_r)` of the decisions naming known records (rows found by binary
    search in the sorted ids, on the driver: decisions are few); the rows."""
    pairs = np.zeros((0, 2), dtype=np.int64)
    if decided.height:
        left = decided.get_column("record_id_l").cast(pl.String).to_numpy()
        right = decided.get_column("record_id_r").cast(pl.String).to_numpy()
        at_l = np.minimum(np.searchsorted(ids, left), len(ids) - 1)
        at_r = np.minimum(np.searchsorted(ids, right), len(ids) - 1)
        known = (ids[at_l] == left) & (ids[at_r] == right)
        pairs = np.stack([at_l[known], at_r[known]], axis=1).astype(np.int64)
    if pairs.shape[0]:
        frame = pl.DataFrame({"row_l": pairs[:, 0], "row_r": pairs[:, 1]})
        frame_of(spark, frame).createOrReplaceTempView(name)
    else:
        spark.sql(_EMPTY).createOrReplaceTempView(name)
    return pairs


def _components(spark: SparkSession) -> DataFrame:
    """`_label (node, label)`: the smallest node of each edge node's component."""
    label = table(spark, "_label", components.START_SQL)
    for _ in range(components.MAX_ROUNDS):
        spark.sql(components.OFFERED_SQL).createOrReplaceTempView("_offered")
        jumped = table(spark, "_next", components.jumped_sql("_offered"))
        changed = first(spark, components.CHANGED_SQL)
        label.unpersist()
        label = jumped
        label.createOrReplaceTempView("_label")
        if not changed or int(changed[0]) == 0:
            break
    drop(spark, "_offered", "_next")
    return label


def _repair(
    spark: SparkSession,
    spec: MatchingSpec,
    model: MatchModel,
    columns: list[str],
    ids: np.ndarray,
    decided: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame, dict[str, Any]]:
    """Guard repair of the few components that need it, engine-free: their rows and final
    label rows, the edges cut (with ids), and the repair's stats."""
    big = small(spark.sql(f"SELECT node FROM _label WHERE label IN ({components.GUARDED_SQL})"))
    rows = np.sort(big.get_column("node").cast(pl.Int64).to_numpy())
    local_of = {int(r): i for i, r in enumerate(rows)}
    frame_of(spark, pl.DataFrame({"_row": rows})).createOrReplaceTempView("_nodes")
    selected = ", ".join(f"r.{ident(c)}" for c in columns)
    nodes = small(
        spark.sql(
            f"SELECT r._row, r.{RECORD_ID}, {selected} FROM records r "
            "JOIN _nodes n ON n._row = r._row"
        )
    ).sort("_row")
    auto = spec.thresholds.merge_at
    strong = small(
        spark.sql(
            "SELECT e.row_l, e.row_r, e.match_probability FROM scored e "
            "JOIN _nodes a ON a._row = e.row_l JOIN _nodes b ON b._row = e.row_r "
            f"WHERE e.match_probability >= {number(auto)}"
        )
    )

    def local(pairs: pl.DataFrame | np.ndarray, extra: bool = False) -> pl.DataFrame:
        if isinstance(pairs, pl.DataFrame):
            frame = pairs
        else:
            columns = {"row_l": pairs[:, 0], "row_r": pairs[:, 1]}
            frame = pl.DataFrame(columns, schema={"row_l": pl.Int64, "row_r": pl.Int64})
        inside = frame.filter(
            pl.col("row_l").is_in(rows.tolist()) & pl.col("row_r").is_in(rows.tolist())
        )
        mapped = inside.with_columns(
            pl.col("row_l", "row_r").replace_strict(local_of, return_dtype=pl.Int64)
        )
        # the polars engine's edge order: cuts alike
        return mapped.sort("row_l", "row_r").select(
            ["row_l", "row_r", *(["match_probability"] if extra else [])]
        )

    labels, cut, stats = cluster(
        len(rows),
        local(strong.cast({"row_l": pl.Int64, "row_r": pl.Int64}), extra=True),
        spec.clustering,
        auto,
        must_link=local(decided[0]),
        cannot_link=local(decided[1]),
        reach=reachability(nodes.drop("_row"), spec, model, auto),
    )
    at_l = cut.get_column("row_l").to_numpy()
    at_r = cut.get_column("row_r").to_numpy()
    review = cut.with_columns(
        pl.Series("record_id_l", ids[rows[at_l]] if at_l.size else [], dtype=pl.String),
        pl.Series("record_id_r", ids[rows[at_r]] if at_r.size else [], dtype=pl.String),
    ).select(list(REVIEW_SCHEMA))
    spark.catalog.dropTempView("_nodes")
    return rows, rows[labels] if rows.size else rows, review, stats


def cluster_spark(
    spark: SparkSession,
    spec: MatchingSpec,
    model: MatchModel,
    must_link: pl.DataFrame,
    cannot_link: pl.DataFrame,
    columns: list[str],
    ids: np.ndarray,
) -> Clustering:
    """Clusters of every record (`ids`: the record ids in row order, which the driver was
    handed) from the `scored` pairs and the decisions."""
    must = _rows(spark, "_must", ids, must_link)
    cannot = _rows(spark, "_cannot", ids, cannot_link)
    edges = table(spark, "_edges", components.edges_sql(spec.thresholds.merge_at, SPARK))
    merge_edges = edges.count()
    label = _components(spark)
    found = small(label.select("node", "label"))  # two integers per record with a merge edge
    final = np.arange(len(ids), dtype=np.int64)
    if found.height:
        final[found.get_column("node").to_numpy()] = found.get_column("label").to_numpy()
    rows, repaired_rows, review, repaired = _repair(
        spark, spec, model, columns, ids, (must, cannot)
    )
    if rows.size:
        final[rows] = repaired_rows
    clusters = pl.DataFrame(
        {RECORD_ID: ids, "cluster_id": ids[final]},
        schema={RECORD_ID: pl.String, "cluster_id": pl.String},
    )
    sizes = np.bincount(final, minlength=len(ids))
    sizes = sizes[sizes > 0]
    stats = components.clustering_stats(sizes, merge_edges, repaired, len(must), len(cannot))
    edges.unpersist()
    label.unpersist()
    drop(spark, "_edges", "_label", "_must", "_cannot")
    return Clustering(clusters, review, stats)
