"""Duplicate matching: blocking -> comparing -> scoring -> clustering, each a pure function over
polars frames of candidate pairs. `dedupe()` composes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.blocking import BlockingRuleStats, BlockingTooLarge
from crmclean.core.matching.comparing import used_columns
from crmclean.core.matching.engine import MatchingEngine
from crmclean.core.matching.engine_polars import PolarsEngine
from crmclean.core.matching.household import blocked_log_odds
from crmclean.core.matching.model_io import ModelMismatch, model_from_dict, model_to_dict
from crmclean.core.matching.scoring import MatchModel, train
from crmclean.core.matching.spec import AutoMergeTarget, MatchingSpec
from crmclean.core.matching.threshold_choice import choose_auto_merge, with_auto_merge
from crmclean.core.problems import RuleSetupError, SetupProblem, YamlPath
from crmclean.errors import InputError, RepeatedIds, shown_column_names

__all__ = [
    "BlockingTooLarge",
    "DedupeResult",
    "MatchModel",
    "MatchingEngine",
    "MatchingSpec",
    "ModelMismatch",
    "PolarsEngine",
    "column_problems",
    "dedupe",
    "model_from_dict",
    "model_to_dict",
]


@dataclass(frozen=True)
class DedupeResult:
    pairs: pl.DataFrame  # candidate pairs at or above `review`, per the pairs contract
    clusters: pl.DataFrame  # record_id, cluster_id for every record
    model: MatchModel
    review: pl.DataFrame  # merge-level pairs the clustering guards cut (REVIEW_SCHEMA)
    stats: dict[str, Any] = field(default_factory=dict)
    blocking: list[BlockingRuleStats] = field(default_factory=list)
    auto_merge: float = 0.0  # the merge threshold used: fixed, or chosen (`stats.auto_merge`)


def column_problems(columns: list[str], spec: MatchingSpec) -> list[SetupProblem]:
    """Columns the matching section names that the (cleaned) data lacks, located in the YAML."""
    known = set(columns)
    hint = "known columns: " + shown_column_names(sorted(known))
    out: list[SetupProblem] = []
    for i, rule in enumerate(spec.blocking):
        for column in rule.columns:
            if column not in known:
                path: YamlPath = ("matching", "blocking", i)
                out.append(SetupProblem(path, f"no column {column!r} in the data", hint))
    for i, comparison in enumerate(spec.comparisons):
        if comparison.column not in known:
            path = ("matching", "comparisons", i, "column")
            out.append(SetupProblem(path, f"no column {comparison.column!r} in the data", hint))
        for j, level in enumerate(comparison.levels):
            named = [("column", level.column), ("other", getattr(level, "other", None))]
            named += [("requires_equal", c) for c in level.requires_equal]
            named += [("columns", c) for c in getattr(level, "columns", [])]
            for key, extra in named:
                if extra and extra not in known:
                    path = ("matching", "comparisons", i, "levels", j, key)
                    out.append(SetupProblem(path, f"no column {extra!r} in the data", hint))
    return out


def _prepare(frame: pl.DataFrame, spec: MatchingSpec) -> pl.DataFrame:
    problems = column_problems(frame.columns, spec)
    if problems:
        raise RuleSetupError(problems)
    if RECORD_ID not in frame.columns:
        raise InputError("the data has no record_id column")
    needed = {c for rule in spec.blocking for c in rule.columns}
    needed |= {c for comparison in spec.comparisons for c in used_columns(comparison)}
    prepared = frame.select(
        pl.col(RECORD_ID).cast(pl.String), *(pl.col(c) for c in sorted(needed - {RECORD_ID}))
    ).sort(RECORD_ID)
    ids = prepared.get_column(RECORD_ID)
    repeated = ids.filter(ids.is_duplicated()).unique().sort()
    if repeated.len():
        raise RepeatedIds(
            repeated.len(),
            [str(v) for v in repeated.head(3).to_list()],
            hint="matching needs one record per id: fix the id column, or name a unique "
            "column as dataset.id_column (the row number is used when none is named)",
        )
    if prepared.get_column(RECORD_ID).null_count():
        raise InputError("record_id has empty values")
    return prepared


def _decided(decided: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Must-link and cannot-link pairs by record_id."""
    normal = decisions_.normalise(decided)
    must = normal.filter(pl.col("decision") == "match").select("record_id_l", "record_id_r")
    cannot = normal.filter(pl.col("decision") == "no_match").select("record_id_l", "record_id_r")
    return must, cannot


def dedupe(
    frame: pl.DataFrame,
    spec: MatchingSpec,
    *,
    model: MatchModel | None = None,
    seed: int | None = None,
    decisions: pl.DataFrame | None = None,
    force: bool = False,
    engine: MatchingEngine | None = None,
) -> DedupeResult:
    """Find duplicate customers in `frame` (a cleaned frame with `record_id`) on `engine`
    (the in-memory polars engine unless another is given; the caller closes it)."""
    seed = spec.training.seed if seed is None else seed
    engine = PolarsEngine() if engine is None else engine
    timings: dict[str, float] = {}
    started = time.perf_counter()
    engine.prepare(_prepare(frame, spec), spec)
    # link_only: only pairs across sources (a filter on the blocked pairs, in each engine)
    rules = engine.block(force=force, across_sources=spec.mode == "link_only")
    timings["block"] = time.perf_counter() - started
    mark = time.perf_counter()
    engine.compare()
    n_pairs = engine.pair_count()
    timings["compare"] = time.perf_counter() - mark
    mark = time.perf_counter()
    trained = model is None
    if model is None:
        model = train(engine, spec, seed=seed)
    timings["train"] = time.perf_counter() - mark
    mark = time.perf_counter()
    engine.score(model)
    spec, choice = _chosen_threshold(engine, model, spec)
    timings["score"] = time.perf_counter() - mark
    mark = time.perf_counter()
    must, cannot = _decided(decisions if decisions is not None else decisions_.empty())
    clustering = engine.cluster(model, must, cannot)
    cluster_stats = dict(clustering.stats)
    applied = cluster_stats.pop("decisions_applied")
    timings["cluster"] = time.perf_counter() - mark
    mark = time.perf_counter()
    recall = engine.recall(model, seed)
    timings["recall_estimate"] = time.perf_counter() - mark
    pairs = engine.pairs_above(model, spec.thresholds.review)
    clusters, review = clustering.clusters, clustering.review
    total = time.perf_counter() - started
    n_records = engine.records()
    n_comparisons = n_pairs * len(spec.comparisons)
    stats: dict[str, Any] = {
        "records": n_records,
        "engine": engine.name,
        "candidate_pairs": n_pairs,
        "candidate_pairs_per_record": n_pairs / max(n_records, 1),
        "blocking_recall": recall,
        "pairs_above_review": pairs.height,
        "pairs_above_auto_merge": int(
            (pairs.get_column("match_probability") >= spec.thresholds.merge_at).sum()
        ),
        "auto_merge": choice,
        "comparisons": n_comparisons,
        "comparisons_per_second": n_comparisons / timings["compare"] if timings["compare"] else 0.0,
        "trained": trained,
        "training": model.training,  # sessions: EM starts, iterations, convergence, stability
        "decisions": {
            "must_link": applied["must_link"],
            "cannot_link": applied["cannot_link"],
            "unknown_ids": must.height
            + cannot.height
            - applied["must_link"]
            - applied["cannot_link"],
        },
        "clustering": cluster_stats,
        "cluster_size_histogram": _histogram(clusters),
        "review_cut_edges": review.height,
        "seconds": {**timings, "total": total},
    }
    return DedupeResult(pairs, clusters, model, review, stats, rules, spec.thresholds.merge_at)


def _chosen_threshold(
    engine: MatchingEngine, model: MatchModel, spec: MatchingSpec
) -> tuple[MatchingSpec, dict[str, Any]]:
    """`auto_merge: {precision: ...}` resolved to a number from the scored pairs (the engine
    clusters with it from here on); a fixed number is reported as it is."""
    target = spec.thresholds.auto_merge
    if not isinstance(target, AutoMergeTarget):
        return spec, {"chosen": target, "bound": "fixed"}
    above = engine.pairs_above(model, target.floor)
    estimates = None
    if model.household:  # the blocked pairs' three-class posterior, calibrated on them
        odds = above.select(blocked_log_odds(model.household[0]).alias("o")).get_column("o")
        estimates = (1.0 / (1.0 + np.power(2.0, -odds.to_numpy()))) if above.height else None
    choice = choose_auto_merge(above.get_column("match_probability"), target, estimates)
    resolved = with_auto_merge(spec, choice.threshold)
    engine.retarget(resolved)
    estimated_by = "household classes" if model.household else "match probability"
    return resolved, {**choice.as_dict(), "estimated_by": estimated_by}


def _histogram(clusters: pl.DataFrame) -> dict[str, int]:
    sizes = clusters.group_by("cluster_id").agg(pl.len().alias("n")).get_column("n").to_numpy()
    edges = [
        (1, 1, "1"),
        (2, 2, "2"),
        (3, 3, "3"),
        (4, 5, "4-5"),
        (6, 10, "6-10"),
        (11, 10**12, "11+"),
    ]
    return {label: int(np.sum((sizes >= lo) & (sizes <= hi))) for lo, hi, label in edges}
