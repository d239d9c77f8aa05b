"""The Spark engine: records and pairs are Spark data frames, so matching scales out to a
cluster (local[*] on one machine, a standalone, YARN or Kubernetes master, Databricks, or a
Spark Connect server). Blocking is joins, comparing and scoring the SQL the DuckDB engine runs
(engines/sql/, Spark's dialect) with rapidfuzz metrics Spark lacks as Arrow UDFs (udfs.py),
components by min-label propagation with checkpoints (components.py). Training reads aggregates;
what comes back to the driver is small: counts, gamma patterns, the components the clustering
guards must see, the labels of records that have a merge edge and the pairs above the review
threshold. Records reach Spark from the driver, which `prepare` is handed them on.

Pairs refer to records by `_row`, the record's position in record_id order, inside Spark only;
everything that leaves is keyed by record_id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import SparkSession

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.engine import Clustering
from crmclean.core.matching.recall import HIGH, recall_summary
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.matching.u_probabilities import random_pairs
from crmclean.engines.spark_engine import blocking, udfs
from crmclean.engines.spark_engine.components import cluster_spark
from crmclean.engines.spark_engine.positions import keep_positions
from crmclean.engines.spark_engine.recall import loose_pairs
from crmclean.engines.spark_engine.session import session
from crmclean.engines.spark_engine.sql import drop, first, ident, key, small, table
from crmclean.engines.sql.dialect import SPARK
from crmclean.engines.sql.scoring import compare_sql, rule_labels, score_sql, term_frequency_sql

_VIEWS = ("records", "vals", "pairs", "compared", "scored", "_loose", "_loose_in")


class SparkEngine:
    """Matching on Spark; `master` is --spark-master (None: the active session, SPARK_REMOTE,
    else local[*])."""

    name = "spark"

    def __init__(self, *, master: str | None = None) -> None:
        self.spark: SparkSession = session(master)
        udfs.register(self.spark)
        self._spec: MatchingSpec | None = None
        self._types: dict[str, str] = {}
        self._columns: list[str] = []
        self._ids = np.array([], dtype=object)
        self._held: list[Any] = []

    @property
    def spec(self) -> MatchingSpec:
        if self._spec is None:
            raise RuntimeError("prepare() first")
        return self._spec

    def _one(self, query: str) -> Any:
        row = first(self.spark, query)
        return row[0] if row else None

    def _table(self, name: str, query: str) -> None:
        self._held.append(table(self.spark, name, query))

    def prepare(self, frame: pl.DataFrame, spec: MatchingSpec) -> None:
        self._spec = spec
        self._columns = [c for c in frame.columns if c != RECORD_ID]
        ordered = (
            frame.sort(RECORD_ID).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
        )
        self._ids = ordered.get_column(RECORD_ID).cast(pl.String).to_numpy()
        arrow = ordered.to_arrow(compat_level=pl.CompatLevel.oldest())
        records = self.spark.createDataFrame(arrow).localCheckpoint(eager=True)
        records.createOrReplaceTempView("records")
        self._held.append(records)
        self._types = {name: kind.upper() for name, kind in records.dtypes}
        # comparisons see a blank text as missing (comparing._blank_to_null)
        blanked = [
            f"CASE WHEN length({SPARK.strip(ident(c))}) > 0 THEN {ident(c)} END AS {ident(c)}"
            if SPARK.is_text(self._types[c])
            else ident(c)
            for c in self._columns
        ]
        self.spark.sql(
            f"SELECT _row, {', '.join(blanked) or '1 AS _none'} FROM records"
        ).createOrReplaceTempView("vals")

    def block(self, *, force: bool, across_sources: bool = False) -> list[BlockingRuleStats]:
        stats = blocking.block(self.spark, self.spec, force)
        if across_sources:  # link_only: a pair's records from different sources (`crm:4711`)
            self._table(
                "pairs",
                "SELECT p.* FROM pairs p JOIN records l ON l._row = p.row_l "
                "JOIN records r ON r._row = p.row_r "
                "WHERE split_part(l.record_id, ':', 1) <> split_part(r.record_id, ':', 1)",
            )
        return stats

    def candidate_pairs(self) -> pl.DataFrame:
        """Every blocked pair: for tests and diagnostics on small data only."""
        result = small(
            self.spark.sql(
                "SELECT l.record_id AS record_id_l, r.record_id AS record_id_r, "
                f"{rule_labels(self.spec, SPARK)} AS blocking_rule, _rules FROM pairs p "
                "JOIN records l ON l._row = p.row_l JOIN records r ON r._row = p.row_r "
                "ORDER BY p.row_l, p.row_r"
            )
        )
        return result.with_columns(
            pl.col("record_id_l", "record_id_r", "blocking_rule").cast(pl.String),
            pl.col("_rules").cast(pl.UInt32),
        )

    def compare(self) -> None:
        for name, query in term_frequency_sql(self.spec, SPARK).items():
            self._table(name, query)
        keep = ["row_l", "row_r", "_rule", "_rules"]
        self._table("compared", compare_sql(self.spec, self._types, "pairs", keep, SPARK))

    # --- training aggregates ---------------------------------------------------------------

    def records(self) -> int:
        return len(self._ids)

    def pair_count(self) -> int:
        return int(self._one("SELECT count(*) FROM compared"))

    def present(self, columns: list[str]) -> int:
        held = " OR ".join(f"{ident(c)} IS NOT NULL" for c in columns)
        return int(self._one(f"SELECT count(*) FROM records WHERE {held}"))

    def agreement(self, columns: list[str], also_present: str | None) -> tuple[int, float]:
        keys = [key(c) for c in columns]
        complete = " AND ".join(f"{k} IS NOT NULL AND {k} <> ''" for k in keys)
        if also_present is not None:
            complete += f" AND {ident(also_present)} IS NOT NULL"
        row = first(
            self.spark,
            "SELECT coalesce(sum(_n), 0), coalesce(sum(CAST(_n AS DOUBLE) * (_n - 1)), 0) FROM "
            f"(SELECT count(*) AS _n FROM records WHERE {complete} GROUP BY {', '.join(keys)}) _g",
        )
        return int(row[0]), float(row[1])

    def random_level_counts(self, n_pairs: int, seed: int) -> dict[str, dict[int, int]]:
        pairs = random_pairs(self.records(), n_pairs, seed).cast(pl.Int64)
        self.spark.createDataFrame(pairs.to_arrow()).createOrReplaceTempView("_random_pairs")
        random = table(
            self.spark,
            "_random",
            compare_sql(self.spec, self._types, "_random_pairs", ["row_l"], SPARK),
        )
        out: dict[str, dict[int, int]] = {}
        for c in self.spec.comparisons:
            rows = self.spark.sql(
                f"SELECT gamma_{c.name}, count(*) FROM _random WHERE gamma_{c.name} >= 0 GROUP BY 1"
            ).collect()
            out[c.name] = {int(g): int(n) for g, n in rows}
        random.unpersist()
        drop(self.spark, "_random", "_random_pairs")
        return out

    def gamma_patterns(
        self, names: list[str], rule_index: int | None, limit: int, seed: int
    ) -> pl.DataFrame:
        where = f"WHERE (_rules & {1 << rule_index}) <> 0" if rule_index is not None else ""
        gammas = ", ".join(f"gamma_{n}" for n in names)
        source = self.spark.sql(f"SELECT row_l, row_r, {gammas} FROM compared {where}")
        count = source.count()
        if count > limit:  # the positions core/matching/scoring.sample_pairs draws
            rng = np.random.default_rng(seed)
            keep = np.sort(rng.choice(count, size=limit, replace=False))
            source = keep_positions(self.spark, source, ["row_l", "row_r"], keep)
        source.createOrReplaceTempView("_patterns")
        result = small(
            self.spark.sql(
                f"SELECT {gammas}, count(*) AS _n FROM _patterns GROUP BY {gammas} "
                f"ORDER BY {gammas}"
            )
        )
        drop(self.spark, "_patterns")
        schema: dict[str, pl.DataType] = {f"gamma_{n}": pl.Int8() for n in names}
        schema["_n"] = pl.UInt32()
        return result.with_columns(pl.col(name).cast(kind) for name, kind in schema.items())

    # --- scoring, clustering, results ------------------------------------------------------

    def score(self, model: MatchModel) -> None:
        self._table("scored", score_sql(model, "compared"))

    def cluster(
        self, model: MatchModel, must_link: pl.DataFrame, cannot_link: pl.DataFrame
    ) -> Clustering:
        return cluster_spark(
            self.spark, self.spec, model, must_link, cannot_link, self._columns, self._ids
        )

    def pairs_above(self, model: MatchModel, threshold: float) -> pl.DataFrame:
        names = [c.name for c in model.comparisons]
        result = small(
            self.spark.sql(
                "SELECT l.record_id AS record_id_l, r.record_id AS record_id_r, match_weight, "
                f"match_probability, {rule_labels(self.spec, SPARK)} AS blocking_rule, "
                + ", ".join([f"gamma_{n}" for n in names] + [f"bf_{n}" for n in names])
                + " FROM scored s JOIN records l ON l._row = s.row_l "
                "JOIN records r ON r._row = s.row_r "
                f"WHERE match_probability >= {float(threshold)!r} ORDER BY s.row_l, s.row_r"
            )
        )
        schema: dict[str, pl.DataType] = {"record_id_l": pl.String(), "record_id_r": pl.String()}
        schema |= {"blocking_rule": pl.String()} | {f"gamma_{n}": pl.Int8() for n in names}
        return result.with_columns(pl.col(name).cast(kind) for name, kind in schema.items())

    def recall(self, model: MatchModel, seed: int) -> dict[str, Any]:
        n = self.records()
        loose, size = loose_pairs(self.spark, self.spec, n, seed)
        keep = ["row_l", "row_r", "_in"]
        scored = compare_sql(self.spec, self._types, "_loose_in", keep, SPARK)
        found, missed = first(
            self.spark,
            "SELECT coalesce(sum(CASE WHEN _in THEN match_probability END), 0), "
            "coalesce(sum(CASE WHEN NOT _in THEN match_probability END), 0) FROM ("
            + score_sql(model, f"({scored})")
            + f") _s WHERE match_probability >= {HIGH!r}",
        ) or (0.0, 0.0)
        drop(self.spark, "_loose", "_loose_in")
        return recall_summary(n, size, loose, float(found), float(missed))

    def close(self) -> None:
        """Unpersist what this run cached and drop its views; the session stays (it may be
        the user's own, or the next run's)."""
        for frame in self._held:
            frame.unpersist()
        self._held.clear()
        comparisons = self._spec.comparisons if self._spec else []
        names = [*_VIEWS, *(f"_tf_{c.name}" for c in comparisons)]
        drop(self.spark, *names)
