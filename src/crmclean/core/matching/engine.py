"""The matching engine seam: what an engine (polars in memory, DuckDB on disk, Spark next) does
with the records and their candidate pairs, and what the engine-free steps read back.

An engine holds the records (keyed by `record_id`, never by row position) and their candidate
pairs where it likes: polars frames, DuckDB tables on disk, Spark data frames. Everything that
leaves it is small: blocking statistics, per-level counts of random pairs, gamma patterns with
their counts, value-count aggregates, the few components the clustering guards must look at,
and the pairs above the review threshold. Training (u, EM, prior, term frequencies are joined
in by the engine) and the guard repair of clusters run on those, engine-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.matching.training_data import TrainingData

# every engine by name (crmclean.engines builds them; the rule file's `engine:` names one)
ENGINE_NAMES = ("polars", "duckdb", "spark")


@dataclass(frozen=True)
class Clustering:
    clusters: pl.DataFrame  # record_id, cluster_id: every record once
    review: pl.DataFrame  # REVIEW_SCHEMA: merge-level edges the guards cut
    stats: dict[str, Any]


class MatchingEngine(TrainingData, Protocol):
    """One dedupe run's records and pairs. Call order: prepare, block, compare, (training
    reads), score, cluster, pairs_above, recall, close."""

    name: str

    def prepare(self, frame: pl.DataFrame, spec: MatchingSpec) -> None:
        """Take the records (`record_id` unique and not null, checked by the caller)."""
        ...

    def block(self, *, force: bool, across_sources: bool = False) -> list[BlockingRuleStats]:
        """Build the candidate pairs (blocking.py's semantics); their statistics. With
        `across_sources` (`matching.mode: link_only`) only pairs of records from different
        sources stay (blocking.across_sources); the statistics are the blocking's own."""
        ...

    def candidate_pairs(self) -> pl.DataFrame:
        """The blocked pairs by id: `record_id_l, record_id_r, blocking_rule` (the first rule
        that found the pair) and `_rules` (bit i: rule i holds), ordered by ids."""
        ...

    def compare(self) -> None:
        """A gamma per candidate pair and comparison (and term frequencies where asked)."""
        ...

    def score(self, model: MatchModel) -> None:
        """Bayes factors, match weight and probability per candidate pair."""
        ...

    def retarget(self, spec: MatchingSpec) -> None:
        """Use `spec` from here on: the prepared one with `auto_merge` chosen (a number)."""
        ...

    def cluster(
        self, model: MatchModel, must_link: pl.DataFrame, cannot_link: pl.DataFrame
    ) -> Clustering:
        """Connected components over the merge edges, guards repaired; decisions hold
        `record_id_l, record_id_r` of known records."""
        ...

    def pairs_above(self, model: MatchModel, threshold: float) -> pl.DataFrame:
        """The scored pairs at or above `threshold` per the pairs contract, ordered by ids."""
        ...

    def recall(self, model: MatchModel, seed: int) -> dict[str, Any]:
        """The blocking recall estimate (recall.py)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (tables, temp files). Safe to call more than once:
        the run pipeline closes the engine as soon as matching is done (its memory is the
        golden step's), and the caller closes it again whatever happened."""
        ...
