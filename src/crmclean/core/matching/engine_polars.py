"""The polars engine: records and pairs as in-memory frames, levels as numpy/rapidfuzz tests over
the unique value pairs (comparing.py), components by numpy label propagation (clustering.py).

Pairs refer to records by their position in the records sorted by record_id; those positions
stay inside this module: what leaves it is keyed by record_id.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID, REVIEW_SCHEMA
from crmclean.core.matching.blocking import BlockingResult, BlockingRuleStats, block
from crmclean.core.matching.blocking import across_sources as only_across
from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.comparing import CodeCache, compare
from crmclean.core.matching.engine import Clustering
from crmclean.core.matching.reach import reachability
from crmclean.core.matching.recall import estimate_recall
from crmclean.core.matching.scoring import MatchModel, gamma_patterns, sample_pairs, score
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.matching.u_probabilities import frame_agreement, level_counts, random_pairs


class PolarsEngine:
    """Everything in memory; the fastest engine while the pairs fit in RAM."""

    name = "polars"

    def __init__(self) -> None:
        self._records = pl.DataFrame()
        self._spec: MatchingSpec | None = None
        self._codes = CodeCache()  # value codes shared by blocked, random and recall pairs
        self._blocked: BlockingResult | None = None
        self._pairs = pl.DataFrame()  # row_l, row_r, _rule, _rules, gamma_*, tf_* (bf_*, ...)

    @property
    def spec(self) -> MatchingSpec:
        if self._spec is None:
            raise RuntimeError("prepare() first")
        return self._spec

    def prepare(self, frame: pl.DataFrame, spec: MatchingSpec) -> None:
        self._records = frame.sort(RECORD_ID)
        self._spec = spec
        self._codes = CodeCache()

    def block(self, *, force: bool, across_sources: bool = False) -> list[BlockingRuleStats]:
        spec = self.spec
        self._blocked = block(
            self._records,
            spec.blocking,
            max_pairs_per_rule=spec.max_pairs_per_rule,
            max_block_size=spec.max_block_size,
            force=force,
        )
        if across_sources:  # row_l/row_r are positions in the records sorted by id
            self._blocked = only_across(self._blocked, self._records.get_column(RECORD_ID))
        self._pairs = self._blocked.pairs
        return self._blocked.rules

    def candidate_pairs(self) -> pl.DataFrame:
        labels = {i: rule.label for i, rule in enumerate(self.spec.blocking)}
        return self._with_ids(self._pairs).select(
            "record_id_l",
            "record_id_r",
            pl.col("_rule").replace_strict(labels, return_dtype=pl.String).alias("blocking_rule"),
            "_rules",
        )

    def compare(self) -> None:
        self._pairs = compare(self._records, self._pairs, self.spec.comparisons, self._codes)

    # --- training aggregates ---------------------------------------------------------------

    def records(self) -> int:
        return self._records.height

    def pair_count(self) -> int:
        return self._pairs.height

    def present(self, columns: list[str]) -> int:
        held = pl.any_horizontal(pl.col(c).is_not_null() for c in columns)
        return int(self._records.select(held.sum()).item())

    def agreement(self, columns: list[str], also_present: str | None) -> tuple[int, float]:
        return frame_agreement(self._records, columns, also_present)

    def random_level_counts(self, n_pairs: int, seed: int) -> dict[str, dict[int, int]]:
        pairs = random_pairs(self._records.height, n_pairs, seed)
        sample = compare(self._records, pairs, self.spec.comparisons, self._codes)
        return {
            c.name: level_counts(sample.get_column(f"gamma_{c.name}"))
            for c in self.spec.comparisons
        }

    def gamma_patterns(
        self, names: list[str], rule_index: int | None, limit: int, seed: int
    ) -> pl.DataFrame:
        pairs = self._pairs
        if rule_index is not None:
            pairs = pairs.filter((pl.col("_rules") & (1 << rule_index)) != 0)
        return gamma_patterns(sample_pairs(pairs, limit, seed), names)

    # --- scoring, clustering, results ------------------------------------------------------

    def score(self, model: MatchModel) -> None:
        self._pairs = score(self._pairs, model)

    def _rows(self, decided: pl.DataFrame) -> pl.DataFrame:
        """Decisions (`record_id_l, record_id_r`) as row positions; unknown ids dropped."""
        rows = self._records.select(
            RECORD_ID, pl.int_range(self._records.height, dtype=pl.Int64).alias("_row")
        )
        return (
            decided.join(rows.rename({RECORD_ID: "record_id_l", "_row": "row_l"}), on="record_id_l")
            .join(rows.rename({RECORD_ID: "record_id_r", "_row": "row_r"}), on="record_id_r")
            .select("row_l", "row_r")
        )

    def retarget(self, spec: MatchingSpec) -> None:
        self._spec = spec

    def cluster(
        self, model: MatchModel, must_link: pl.DataFrame, cannot_link: pl.DataFrame
    ) -> Clustering:
        spec = self.spec
        must, cannot = self._rows(must_link), self._rows(cannot_link)
        labels, cut, stats = cluster(
            self._records.height,
            self._pairs.select("row_l", "row_r", "match_probability"),
            spec.clustering,
            spec.thresholds.merge_at,
            must_link=must,
            cannot_link=cannot,
            reach=reachability(self._records, spec, model, spec.thresholds.merge_at),
        )
        ids = self._records.get_column(RECORD_ID)
        clusters = pl.DataFrame({RECORD_ID: ids, "cluster_id": ids.gather(labels)})
        review = self._with_ids(cut).select(list(REVIEW_SCHEMA))
        stats["decisions_applied"] = {"must_link": must.height, "cannot_link": cannot.height}
        return Clustering(clusters, review, stats)

    def _with_ids(self, frame: pl.DataFrame) -> pl.DataFrame:
        ids = self._records.get_column(RECORD_ID).to_numpy()
        rows_l = frame.get_column("row_l").cast(pl.Int64).to_numpy()
        rows_r = frame.get_column("row_r").cast(pl.Int64).to_numpy()
        return frame.with_columns(
            pl.Series("record_id_l", ids[rows_l] if rows_l.size else [], dtype=pl.String),
            pl.Series("record_id_r", ids[rows_r] if rows_r.size else [], dtype=pl.String),
        )

    def pairs_above(self, model: MatchModel, threshold: float) -> pl.DataFrame:
        kept = self._pairs.filter(pl.col("match_probability") >= threshold)
        labels = {i: rule.label for i, rule in enumerate(self.spec.blocking)}
        kept = self._with_ids(kept).with_columns(
            pl.col("_rule").replace_strict(labels, return_dtype=pl.String).alias("blocking_rule")
        )
        names = [c.name for c in model.comparisons]
        return kept.select(
            "record_id_l",
            "record_id_r",
            "match_weight",
            "match_probability",
            "blocking_rule",
            *(f"gamma_{n}" for n in names),
            *(f"bf_{n}" for n in names),
        )

    def recall(self, model: MatchModel, seed: int) -> dict[str, Any]:
        blocked = self._blocked.pairs if self._blocked is not None else self._pairs
        return estimate_recall(
            self._records, blocked, self.spec, model, seed=seed, cache=self._codes
        )

    def close(self) -> None:
        self._records = pl.DataFrame()
        self._pairs = pl.DataFrame()
        self._blocked = None
        self._codes = CodeCache()
