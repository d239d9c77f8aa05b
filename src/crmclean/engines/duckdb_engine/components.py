"""Clustering on DuckDB: connected components of the merge edges by iterative min-label
propagation with pointer jumping in SQL; only the components a guard could touch (three or more
records, or a cannot-link inside) come back to Python, where core/matching/clustering.py
`cluster` repairs them exactly as the polars engine would (every guard is local to one
component). A component's label is its smallest row, so its cluster id is its smallest
record_id, as on the polars engine."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from crmclean.core.contracts import RECORD_ID, REVIEW_SCHEMA
from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.engine import Clustering
from crmclean.core.matching.reach import reachability
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.duckdb_engine.sql import first, frame, number, run
from crmclean.engines.sql import components
from crmclean.engines.sql.dialect import DUCKDB


def _decision_rows(con: duckdb.DuckDBPyConnection, name: str, decided: pl.DataFrame) -> int:
    """Table `name (row_l, row_r)` of the decisions naming known records; how many."""
    con.register("_decided", decided.select("record_id_l", "record_id_r"))
    run(
        con,
        f"CREATE OR REPLACE TABLE {name} AS SELECT a._row AS row_l, b._row AS row_r "
        "FROM _decided d JOIN records a ON a.record_id = d.record_id_l "
        "JOIN records b ON b.record_id = d.record_id_r",
    )
    con.unregister("_decided")
    found = first(con, f"SELECT count(*) FROM {name}")
    return int(found[0]) if found else 0


def _components(con: duckdb.DuckDBPyConnection) -> None:
    """`_label (node, label)`: the smallest node of each edge node's component."""
    run(con, f"CREATE OR REPLACE TABLE _label AS {components.START_SQL}")
    for _ in range(components.MAX_ROUNDS):
        run(con, f"CREATE OR REPLACE TABLE _offered AS {components.OFFERED_SQL}")
        run(con, f"CREATE OR REPLACE TABLE _next AS {components.jumped_sql('_offered')}")
        changed = first(con, components.CHANGED_SQL)
        run(con, "CREATE OR REPLACE TABLE _label AS SELECT * FROM _next")
        if not changed or int(changed[0]) == 0:
            break
    run(con, "DROP TABLE IF EXISTS _next; DROP TABLE IF EXISTS _offered")


def _repair(
    con: duckdb.DuckDBPyConnection,
    spec: MatchingSpec,
    model: MatchModel,
    columns: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Guard repair of the few components that need it, engine-free: the rows' final labels
    (`_row, _label_row`), the edges cut (with ids), and the repair's stats."""
    run(con, f"CREATE OR REPLACE TABLE _big AS {components.GUARDED_SQL}")
    run(
        con,
        "CREATE OR REPLACE TABLE _nodes AS SELECT l.node AS _row, "
        "CAST(row_number() OVER (ORDER BY l.node) - 1 AS BIGINT) AS _local "
        "FROM _label l SEMI JOIN _big b ON b.label = l.label",
    )
    selected = ", ".join(f'r."{c}"' for c in columns)
    nodes = frame(
        con,
        f"SELECT n._local, n._row, r.record_id, {selected} FROM _nodes n "
        "JOIN records r ON r._row = n._row ORDER BY n._local",
    )
    auto = spec.thresholds.merge_at

    def local(table: str, extra: str = "") -> pl.DataFrame:
        return frame(
            con,
            f"SELECT a._local AS row_l, b._local AS row_r{extra} FROM {table} e "
            "JOIN _nodes a ON a._row = e.row_l JOIN _nodes b ON b._row = e.row_r"
            + (f" WHERE e.match_probability >= {number(auto)}" if extra else "")
            + " ORDER BY a._local, b._local",  # the polars engine's edge order: cuts alike
        )

    strong = local("scored", ", e.match_probability")
    labels, cut, stats = cluster(
        nodes.height,
        strong,
        spec.clustering,
        auto,
        must_link=local("_must"),
        cannot_link=local("_cannot"),
        reach=reachability(nodes.drop("_local", "_row"), spec, model, auto),
    )
    rows = nodes.get_column("_row").to_numpy()
    ids = nodes.get_column(RECORD_ID).to_numpy()
    final = pl.DataFrame(
        {"_row": rows, "_label_row": rows[labels] if rows.size else rows},
        schema={"_row": pl.Int64, "_label_row": pl.Int64},
    )
    at_l = cut.get_column("row_l").to_numpy()
    at_r = cut.get_column("row_r").to_numpy()
    review = cut.with_columns(
        pl.Series("record_id_l", ids[at_l] if at_l.size else [], dtype=pl.String),
        pl.Series("record_id_r", ids[at_r] if at_r.size else [], dtype=pl.String),
    ).select(list(REVIEW_SCHEMA))
    return final, review, stats


def cluster_sql(
    con: duckdb.DuckDBPyConnection,
    spec: MatchingSpec,
    model: MatchModel,
    must_link: pl.DataFrame,
    cannot_link: pl.DataFrame,
    columns: list[str],
) -> Clustering:
    """Clusters of every record from the `scored` pairs (and the decisions by record_id)."""
    must = _decision_rows(con, "_must", must_link)
    cannot = _decision_rows(con, "_cannot", cannot_link)
    edges = components.edges_sql(spec.thresholds.merge_at, DUCKDB)
    run(con, f"CREATE OR REPLACE TABLE _edges AS {edges}")
    merge_edges = first(con, "SELECT count(*) FROM _edges")
    _components(con)
    final, review, repaired = _repair(con, spec, model, columns)
    con.register("_repaired", final)
    clusters = frame(
        con,
        "SELECT r.record_id, c.record_id AS cluster_id FROM records r "
        "LEFT JOIN _repaired f ON f._row = r._row LEFT JOIN _label l ON l.node = r._row "
        "JOIN records c ON c._row = coalesce(f._label_row, l.label, r._row) ORDER BY r._row",
    )
    con.unregister("_repaired")
    sizes = clusters.group_by("cluster_id").len().get_column("len").to_numpy()
    merged = int(merge_edges[0]) if merge_edges else 0
    stats = components.clustering_stats(sizes, merged, repaired, must, cannot)
    for table in ("_edges", "_label", "_big", "_nodes", "_must", "_cannot"):
        run(con, f"DROP TABLE IF EXISTS {table}")
    return Clustering(clusters.cast({RECORD_ID: pl.String, "cluster_id": pl.String}), review, stats)
