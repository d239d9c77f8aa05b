"""Clustering: connected components over pairs at or above `auto_merge`, honouring decisions.

Components come from vectorised min-label propagation with pointer jumping (numpy), so a cluster
id is the smallest record_id of its members: deterministic and stable. Two guards stop chaining:
a cluster above `max_cluster_size`, or one holding a cannot-link pair, is re-clustered at rising
thresholds; a single edge below `bridge_probability` joining two groups is cut. Every edge cut is
sent to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.reach import Reach
from crmclean.core.matching.spec import ClusteringSpec

IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class ClusterResult:
    clusters: pl.DataFrame  # record_id, cluster_id: every record once
    cut: pl.DataFrame  # REVIEW_SCHEMA: merge-level edges the guards cut
    stats: dict[str, Any]


def components(n_nodes: int, left: IntArray, right: IntArray) -> IntArray:
    """The smallest node index of each node's connected component."""
    labels = np.arange(n_nodes, dtype=np.int64)
    if left.size == 0:
        return labels
    while True:
        lowest = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, lowest)
        np.minimum.at(labels, right, lowest)
        while True:  # pointer jumping: follow labels to their root
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            return labels


def _sizes(labels: IntArray) -> IntArray:
    return np.bincount(labels, minlength=labels.size)[labels]


def _ladder(auto_merge: float) -> list[float]:
    gap = 1.0 - auto_merge
    return [1.0 - gap / 10**k for k in range(1, 8)]


@dataclass
class _Graph:
    """Merge edges as arrays; `keep` marks the edges still in the graph."""

    n: int
    left: IntArray
    right: IntArray
    p: np.ndarray[Any, np.dtype[np.float64]]
    keep: np.ndarray[Any, np.dtype[np.bool_]]
    reasons: np.ndarray[Any, np.dtype[np.object_]]

    def labels(self) -> IntArray:
        return components(self.n, self.left[self.keep], self.right[self.keep])

    def cut(self, mask: np.ndarray[Any, np.dtype[np.bool_]], reason: str | Any) -> None:
        """Drop the masked edges; `reason` is one text, or one per masked edge."""
        self.keep[mask] = False
        self.reasons[mask] = reason


def _merge_edges(
    edges: pl.DataFrame,
    auto_merge: float,
    must_link: pl.DataFrame | None,
    cannot_link: pl.DataFrame | None,
) -> pl.DataFrame:
    """Pairs at or above auto_merge minus cannot-links, plus must-links (p = 2: never cut)."""
    strong = edges.filter(pl.col("match_probability") >= auto_merge).select(
        pl.col("row_l").cast(pl.Int64),
        pl.col("row_r").cast(pl.Int64),
        pl.col("match_probability").alias("p"),
    )
    if cannot_link is not None and cannot_link.height:
        strong = strong.join(
            cannot_link.select(pl.col("row_l").cast(pl.Int64), pl.col("row_r").cast(pl.Int64)),
            on=["row_l", "row_r"],
            how="anti",
        )
    if must_link is not None and must_link.height:
        forced = must_link.select(
            pl.col("row_l").cast(pl.Int64), pl.col("row_r").cast(pl.Int64), pl.lit(2.0).alias("p")
        )
        strong = pl.concat([strong, forced], how="vertical")
    return strong


def _cut_weak_bridges(graph: _Graph, bridge_probability: float) -> None:
    """Cut a lone edge below `bridge_probability` that joins two strongly held groups."""
    left, right, p = graph.left, graph.right, graph.p
    sure = p >= bridge_probability
    groups = components(graph.n, left[sure], right[sure])
    between = ~sure & (groups[left] != groups[right])
    if not between.any():
        return
    a = np.minimum(groups[left], groups[right])[between]
    b = np.maximum(groups[left], groups[right])[between]
    group_size = np.bincount(groups, minlength=graph.n)
    link = pl.DataFrame({"a": a, "b": b})
    counted = link.join(
        link.group_by("a", "b").agg(pl.len().alias("n")), on=["a", "b"], maintain_order="left"
    )
    single = counted.get_column("n").to_numpy() == 1
    big = (group_size[a] + group_size[b]) >= 3
    mask = np.zeros(left.size, dtype=np.bool_)
    mask[np.flatnonzero(between)[single & big]] = True
    graph.cut(
        mask,
        "bridge: the only edge joining two groups, below bridge_probability "
        f"{bridge_probability:g}",
    )


def _density(graph: _Graph, labels: IntArray, reach: Reach | None) -> tuple[Any, Any]:
    """Per record: its cluster's size, and the share of the cluster's possible pairs that are
    edges. A chain A-B-C-D-E of one-off links has density 0.4; five records of one customer
    nearly 1. With `reach`, a pair counts as possible only if it could reach auto_merge (the
    fields both records hold could carry that much evidence): a sparse record's missing links
    to the records it shares only a name with are no sign of a chain."""
    sizes = np.bincount(labels, minlength=graph.n).astype(np.float64)
    edges = np.bincount(labels[graph.left[graph.keep]], minlength=graph.n).astype(np.float64)
    possible = sizes * (sizes - 1) / 2
    if reach is not None:
        members = np.flatnonzero(sizes[labels] >= 4)  # only these can be chained
        frame = pl.DataFrame({"r": members, "c": labels[members]})
        inside = frame.join(frame, on="c", suffix="_o").filter(pl.col("r") < pl.col("r_o"))
        a, b = inside.get_column("r").to_numpy(), inside.get_column("r_o").to_numpy()
        could = reach.reachable(a, b) if a.size else np.zeros(0, dtype=np.bool_)
        counted = np.bincount(inside.get_column("c").to_numpy()[could], minlength=graph.n).astype(
            np.float64
        )
        possible = np.where(sizes >= 4, np.maximum(counted, edges), possible)
    with np.errstate(invalid="ignore", divide="ignore"):
        density = np.where(possible > 0, edges / np.maximum(possible, 1.0), 1.0)
    return sizes[labels], density[labels]


def _guard_reasons(
    size: Any, density: Any, large: Any, chained: Any, conflict: Any, spec: ClusteringSpec
) -> Any:
    """One text per cut edge naming each guard that fired on its cluster, with the numbers."""
    frame = pl.DataFrame(
        {"size": size, "density": density, "large": large, "chained": chained, "cl": conflict}
    )
    parts = [
        pl.when(pl.col("large")).then(
            pl.format(
                "cluster too large ({} records > max_cluster_size {})",
                pl.col("size").cast(pl.Int64),
                pl.lit(spec.max_cluster_size),
            )
        ),
        pl.when(pl.col("chained")).then(
            pl.format(
                "chained (density {} < min_density {})",
                pl.col("density").round(2),
                pl.lit(spec.min_density),
            )
        ),
        pl.when(pl.col("cl")).then(pl.lit("cannot-link inside the cluster")),
    ]
    reason = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return frame.select(reason.alias("r")).get_column("r").to_numpy().astype(object)


def _split_bad_clusters(
    graph: _Graph,
    labels: IntArray,
    spec: ClusteringSpec,
    auto_merge: float,
    cannot: pl.DataFrame,
    reach: Reach | None,
) -> tuple[IntArray, int, int]:
    """Re-cluster oversized, sparse (chained) and cannot-link clusters at rising thresholds;
    must-links (p = 2) stay. Returns labels, clusters split, decision conflicts."""
    bad_l = cannot.get_column("row_l").cast(pl.Int64).to_numpy()
    bad_r = cannot.get_column("row_r").cast(pl.Int64).to_numpy()
    roots = np.arange(graph.n)
    split = 0
    for threshold in [*_ladder(auto_merge), 1.5]:
        size, density = _density(graph, labels, reach)
        large = size > spec.max_cluster_size
        chained = (size >= 4) & (density < spec.min_density)
        conflict_roots = labels[bad_l[labels[bad_l] == labels[bad_r]]]
        conflict = np.zeros(graph.n, dtype=np.bool_)
        conflict[conflict_roots] = True
        conflict = conflict[labels]  # per record: its cluster holds a cannot-link pair
        bad = large | chained | conflict
        bad_clusters = np.unique(labels[bad & (labels == roots)])
        if bad_clusters.size == 0:
            break
        split += int(bad_clusters.size)
        in_bad = np.isin(labels[graph.left], bad_clusters) & graph.keep & (graph.p < threshold)
        at = graph.left[in_bad]
        reasons = _guard_reasons(size[at], density[at], large[at], chained[at], conflict[at], spec)
        graph.cut(in_bad, reasons)
        labels = graph.labels()
    together = labels[bad_l] == labels[bad_r]
    conflicts = int(together.sum())
    if conflicts:  # must-links chain two cannot-linked records: cannot-link wins
        members = np.isin(labels, labels[bad_l[together]])
        graph.cut(members[graph.left] & graph.keep, "conflicting decisions")
        labels = graph.labels()
    return labels, split, conflicts


def cluster(
    n_records: int,
    edges: pl.DataFrame,
    spec: ClusteringSpec,
    auto_merge: float,
    *,
    must_link: pl.DataFrame | None = None,
    cannot_link: pl.DataFrame | None = None,
    reach: Reach | None = None,
) -> tuple[IntArray, pl.DataFrame, dict[str, Any]]:
    """Component label per record position, the edges cut (`row_l, row_r, p, reason`), stats.

    `edges` holds `row_l, row_r, match_probability` for every scored pair; decisions hold
    `row_l, row_r` positions; `reach` (optional) says which pairs could be merge edges at all.
    """
    strong = _merge_edges(edges, auto_merge, must_link, cannot_link)
    size = strong.height
    graph = _Graph(
        n_records,
        strong.get_column("row_l").to_numpy(),
        strong.get_column("row_r").to_numpy(),
        strong.get_column("p").to_numpy().astype(np.float64),
        np.ones(size, dtype=np.bool_),
        np.full(size, "", dtype=object),
    )
    _cut_weak_bridges(graph, spec.bridge_probability)
    cannot = (
        cannot_link
        if cannot_link is not None
        else pl.DataFrame(schema={"row_l": pl.Int64, "row_r": pl.Int64})
    )
    labels, split, conflicts = _split_bad_clusters(
        graph, graph.labels(), spec, auto_merge, cannot, reach
    )
    cut_mask = ~graph.keep & (graph.p <= 1.0)
    cut = pl.DataFrame(
        {
            "row_l": graph.left[cut_mask],
            "row_r": graph.right[cut_mask],
            "match_probability": graph.p[cut_mask],
            "reason": graph.reasons[cut_mask].astype(str),
        },
        schema={
            "row_l": pl.Int64,
            "row_r": pl.Int64,
            "match_probability": pl.Float64,
            "reason": pl.String,
        },
    )
    sizes = np.bincount(labels, minlength=n_records)
    sizes = sizes[sizes > 0]
    stats = {
        "clusters": int(sizes.size),
        "singletons": int((sizes == 1).sum()),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "merge_edges": size,
        "edges_cut": int(cut_mask.sum()),
        "clusters_split": split,
        "decision_conflicts": conflicts,
    }
    return labels, cut, stats
