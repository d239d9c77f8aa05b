"""What an incremental run reads from the previous run, and what it reports about itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmclean.core.golden.ids import IdState
from crmclean.core.incremental.changes import RecordChanges
from crmclean.core.matching import MatchModel
from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.pipeline import RunResult


@dataclass(frozen=True)
class PreviousState:
    """The previous run's tables as it wrote them (violations and changes masked as written)."""

    hashes: pl.DataFrame  # record_id, content_hash (changes.HASH_SCHEMA)
    clean: pl.DataFrame  # every cleaned record
    changes: pl.DataFrame  # the cleaning's changes
    violations: pl.DataFrame
    crosswalk: pl.DataFrame  # CROSSWALK_SCHEMA
    golden: pl.DataFrame
    lineage: pl.DataFrame
    review: pl.DataFrame
    id_state: IdState
    # matching (None without a matching: section)
    model: MatchModel | None = None
    keys: pl.DataFrame | None = None  # blocking.KEYS_SCHEMA
    pair_totals: list[int] = field(default_factory=list)
    pairs: pl.DataFrame | None = None
    clusters: pl.DataFrame | None = None
    blocking: list[BlockingRuleStats] = field(default_factory=list)
    dedupe_stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncrementalRun:
    result: RunResult
    records: RecordChanges
    clusters_touched: int  # previous clusters clustered again
    golden_rebuilt: int  # golden records built again (the others carried over)
    keys: pl.DataFrame | None  # today's block keys, for the next night
    pair_totals: list[int]
    hashes: pl.DataFrame  # today's content hashes, for the next night

    def summary(self) -> dict[str, int]:
        return {
            **self.records.counts(),
            "clusters_touched": self.clusters_touched,
            "golden_rebuilt": self.golden_rebuilt,
        }
