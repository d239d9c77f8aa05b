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
from crmclean.core.matching.recall import recall_summary
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.matching.u_probabilities import random_pairs
from crmclean.engines.spark_engine import blocking, udfs
from crmclean.engines.spark_engine.components import cluster_spark
from crmclean.engines.spark_engine.positions import keep_positions
from crmclean.engines.spark_engine.recall import loose_pairs
from crmclean.engines.spark_engine.session import session
from crmclean.engines.spark_engine.sql import drop, first, frame_of, small, table
from crmclean.engines.sql import results
from crmclean.engines.sql.dialect import SPARK
from crmclean.engines.sql.recall import sums_sql
from crmclean.engines.sql.scoring import compare_sql, score_sql, term_frequency_sql

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
        records = frame_of(self.spark, arrow).localCheckpoint(eager=True)
        records.createOrReplaceTempView("records")
        self._held.append(records)
        self._types = {name: kind.upper() for name, kind in records.dtypes}
        values = results.values_sql(self._columns, self._types, SPARK)
        self.spark.sql(values).createOrReplaceTempView("vals")

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
        query = results.candidate_pairs_sql(self.spec, SPARK)
        return results.candidate_pairs(small(self.spark.sql(query)))

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
        return int(self._one(results.present_sql(columns, SPARK)))

    def agreement(self, columns: list[str], also_present: str | None) -> tuple[int, float]:
        row = first(self.spark, results.agreement_sql(columns, also_present, SPARK))
        return int(row[0]), float(row[1])

    def random_level_counts(self, n_pairs: int, seed: int) -> dict[str, dict[int, int]]:
        pairs = random_pairs(self.records(), n_pairs, seed).cast(pl.Int64)
        frame_of(self.spark, pairs).createOrReplaceTempView("_random_pairs")
        random = table(
            self.spark,
            "_random",
            compare_sql(self.spec, self._types, "_random_pairs", ["row_l"], SPARK),
        )
        out: dict[str, dict[int, int]] = {}
        for c in self.spec.comparisons:
            rows = self.spark.sql(results.level_counts_sql(c.name, "_random")).collect()
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
            self._held.append(source)
        source.createOrReplaceTempView("_patterns")
        result = small(
            self.spark.sql(
                f"SELECT {gammas}, count(*) AS _n FROM _patterns GROUP BY {gammas} "
                f"ORDER BY {gammas}"
            )
        )
        drop(self.spark, "_patterns")
        return results.patterns(result, names)

    # --- scoring, clustering, results ------------------------------------------------------

    def score(self, model: MatchModel) -> None:
        self._table("scored", score_sql(model, "compared"))

    def retarget(self, spec: MatchingSpec) -> None:
        self._spec = spec

    def cluster(
        self, model: MatchModel, must_link: pl.DataFrame, cannot_link: pl.DataFrame
    ) -> Clustering:
        return cluster_spark(
            self.spark, self.spec, model, must_link, cannot_link, self._columns, self._ids
        )

    def pairs_above(self, model: MatchModel, threshold: float) -> pl.DataFrame:
        above = results.above_sql(self.spec, model, threshold, SPARK)
        return results.pairs_above(small(self.spark.sql(above)), model)

    def recall(self, model: MatchModel, seed: int) -> dict[str, Any]:
        n = self.records()
        loose, size = loose_pairs(self.spark, self.spec, n, seed)
        keep = ["row_l", "row_r", "_in"]
        compared = compare_sql(self.spec, self._types, "_loose_in", keep, SPARK)
        found, missed = first(self.spark, sums_sql(score_sql(model, f"({compared})"))) or (0, 0)
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
