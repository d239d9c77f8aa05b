"""Connected components of the merge edges as SQL, shared by the DuckDB and Spark engines:
min-label propagation with pointer jumping over `_edges (row_l, row_r)`, labels in
`_label (node, label)` (a component's label is its smallest row). Each engine runs a round,
keeps the new labels its own way (a table, a checkpointed frame) and stops when none changed."""

from __future__ import annotations

from typing import Any

import numpy as np

from crmclean.engines.sql.dialect import Dialect

MAX_ROUNDS = 10_000

# every edge node labelled by itself
START_SQL = (
    "SELECT node, node AS label FROM "
    "(SELECT row_l AS node FROM _edges UNION SELECT row_r FROM _edges) _n"
)

# a node takes the smallest label among its own and its neighbours'
OFFERED_SQL = (
    "WITH offers AS ("
    " SELECT e.row_l AS node, b.label FROM _edges e JOIN _label b ON b.node = e.row_r"
    " UNION ALL"
    " SELECT e.row_r AS node, a.label FROM _edges e JOIN _label a ON a.node = e.row_l),"
    " best AS (SELECT node, min(label) AS label FROM offers GROUP BY node) "
    "SELECT l.node, least(l.label, coalesce(b.label, l.label)) AS label "
    "FROM _label l LEFT JOIN best b ON b.node = l.node"
)


def jumped_sql(offered: str) -> str:
    """Pointer jumping: a node takes its label's label (halves the remaining distance)."""
    return (
        "SELECT n.node, least(n.label, p.label) AS label "
        f"FROM {offered} n JOIN {offered} p ON p.node = n.label"
    )


# how many nodes the round relabelled
CHANGED_SQL = (
    "SELECT count(*) FROM _next n JOIN _label l ON l.node = n.node WHERE n.label <> l.label"
)


def edges_sql(auto_merge: float, dialect: Dialect) -> str:
    """The merge edges: scored pairs at or above auto_merge but the cannot-links, and the
    must-links (`_cannot`, `_must`: row_l, row_r)."""
    return (
        "SELECT row_l, row_r FROM (SELECT row_l, row_r FROM scored WHERE match_probability >= "
        f"{dialect.number(auto_merge)} EXCEPT ALL SELECT row_l, row_r FROM _cannot) _e "
        "UNION ALL SELECT row_l, row_r FROM _must"
    )


# the labels of the components the clustering guards must see: three or more records, or a
# cannot-link inside
GUARDED_SQL = (
    "SELECT label FROM _label GROUP BY label HAVING count(*) >= 3 "
    "UNION SELECT a.label FROM _cannot c "
    "JOIN _label a ON a.node = c.row_l JOIN _label b ON b.node = c.row_r "
    "WHERE a.label = b.label"
)


def clustering_stats(
    sizes: np.ndarray, merge_edges: int, repaired: dict[str, Any], must: int, cannot: int
) -> dict[str, Any]:
    """The clustering's stats from the cluster sizes, the merge edges, the guards' repair stats
    and the decisions applied."""
    return {
        "clusters": int(sizes.size),
        "singletons": int(np.sum(sizes == 1)),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "merge_edges": int(merge_edges),
        "edges_cut": repaired["edges_cut"],
        "clusters_split": repaired["clusters_split"],
        "decision_conflicts": repaired["decision_conflicts"],
        "decisions_applied": {"must_link": must, "cannot_link": cannot},
    }
