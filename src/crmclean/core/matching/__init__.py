"""Duplicate matching: blocking -> comparing -> scoring -> clustering, each a pure function over
polars frames of candidate pairs. `dedupe()` composes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID, REVIEW_SCHEMA
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.blocking import BlockingRuleStats, BlockingTooLarge, block
from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.comparing import CodeCache, compare, used_columns
from crmclean.core.matching.model_io import ModelMismatch, model_from_dict, model_to_dict
from crmclean.core.matching.reach import reachability
from crmclean.core.matching.recall import estimate_recall
from crmclean.core.matching.scoring import MatchModel, score, train
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.problems import RuleSetupError, SetupProblem, YamlPath
from crmclean.errors import InputError, RepeatedIds

__all__ = [
    "BlockingTooLarge",
    "DedupeResult",
    "MatchModel",
    "MatchingSpec",
    "ModelMismatch",
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


def column_problems(columns: list[str], spec: MatchingSpec) -> list[SetupProblem]:
    """Columns the matching section names that the (cleaned) data lacks, located in the YAML."""
    known = set(columns)
    hint = "known columns: " + ", ".join(sorted(known)[:30])
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


def _decided_rows(
    ids: pl.DataFrame, decided: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Must-link and cannot-link pairs as row positions; decisions naming unknown ids dropped."""
    rows = ids.select(RECORD_ID, pl.int_range(ids.height, dtype=pl.Int64).alias("_row"))
    located = (
        decisions_.normalise(decided)
        .join(rows.rename({RECORD_ID: "record_id_l", "_row": "row_l"}), on="record_id_l")
        .join(rows.rename({RECORD_ID: "record_id_r", "_row": "row_r"}), on="record_id_r")
    )
    unknown = decisions_.normalise(decided).height - located.height
    must = located.filter(pl.col("decision") == "match").select("row_l", "row_r")
    cannot = located.filter(pl.col("decision") == "no_match").select("row_l", "row_r")
    return must, cannot, unknown


def dedupe(
    frame: pl.DataFrame,
    spec: MatchingSpec,
    *,
    model: MatchModel | None = None,
    seed: int | None = None,
    decisions: pl.DataFrame | None = None,
    force: bool = False,
) -> DedupeResult:
    """Find duplicate customers in `frame` (a cleaned frame with `record_id`)."""
    seed = spec.training.seed if seed is None else seed
    timings: dict[str, float] = {}
    started = time.perf_counter()
    prepared = _prepare(frame, spec)
    blocked = block(
        prepared,
        spec.blocking,
        max_pairs_per_rule=spec.max_pairs_per_rule,
        max_block_size=spec.max_block_size,
        force=force,
    )
    timings["block"] = time.perf_counter() - started
    mark = time.perf_counter()
    codes = CodeCache()  # value codes of `prepared`, shared by blocked and random pairs
    compared = compare(prepared, blocked.pairs, spec.comparisons, codes)
    timings["compare"] = time.perf_counter() - mark
    mark = time.perf_counter()
    trained = model is None
    if model is None:
        model = train(prepared, compared, spec, seed=seed, cache=codes)
    timings["train"] = time.perf_counter() - mark
    mark = time.perf_counter()
    scored = score(compared, model)
    timings["score"] = time.perf_counter() - mark
    mark = time.perf_counter()
    must, cannot, unknown = _decided_rows(
        prepared.select(RECORD_ID), decisions if decisions is not None else decisions_.empty()
    )
    labels, cut, cluster_stats = cluster(
        prepared.height,
        scored.select("row_l", "row_r", "match_probability"),
        spec.clustering,
        spec.thresholds.auto_merge,
        must_link=must,
        cannot_link=cannot,
        reach=reachability(prepared, spec, model, spec.thresholds.auto_merge),
    )
    ids = prepared.get_column(RECORD_ID)
    clusters = pl.DataFrame({RECORD_ID: ids, "cluster_id": ids.gather(labels)})
    timings["cluster"] = time.perf_counter() - mark
    mark = time.perf_counter()
    recall = estimate_recall(prepared, blocked.pairs, spec, model, seed=seed, cache=codes)
    timings["recall_estimate"] = time.perf_counter() - mark
    pairs = _output_pairs(scored, ids, spec, model)
    review = _with_ids(cut, ids).select(list(REVIEW_SCHEMA))
    total = time.perf_counter() - started
    n_comparisons = blocked.pairs.height * len(spec.comparisons)
    stats: dict[str, Any] = {
        "records": prepared.height,
        "candidate_pairs": blocked.pairs.height,
        "candidate_pairs_per_record": blocked.pairs.height / max(prepared.height, 1),
        "blocking_recall": recall,
        "pairs_above_review": pairs.height,
        "pairs_above_auto_merge": int(
            (pairs.get_column("match_probability") >= spec.thresholds.auto_merge).sum()
        ),
        "comparisons": n_comparisons,
        "comparisons_per_second": n_comparisons / timings["compare"] if timings["compare"] else 0.0,
        "trained": trained,
        "training": model.training,  # sessions: EM starts, iterations, convergence, stability
        "decisions": {
            "must_link": must.height,
            "cannot_link": cannot.height,
            "unknown_ids": unknown,
        },
        "clustering": cluster_stats,
        "cluster_size_histogram": _histogram(clusters),
        "review_cut_edges": review.height,
        "seconds": {**timings, "total": total},
    }
    return DedupeResult(pairs, clusters, model, review, stats, blocked.rules)


def _with_ids(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    rows_l = frame.get_column("row_l").cast(pl.Int64).to_numpy()
    rows_r = frame.get_column("row_r").cast(pl.Int64).to_numpy()
    return frame.with_columns(
        pl.Series("record_id_l", ids.to_numpy()[rows_l] if rows_l.size else [], dtype=pl.String),
        pl.Series("record_id_r", ids.to_numpy()[rows_r] if rows_r.size else [], dtype=pl.String),
    )


def _output_pairs(
    scored: pl.DataFrame, ids: pl.Series, spec: MatchingSpec, model: MatchModel
) -> pl.DataFrame:
    kept = scored.filter(pl.col("match_probability") >= spec.thresholds.review)
    labels = {i: rule.label for i, rule in enumerate(spec.blocking)}
    kept = _with_ids(kept, ids).with_columns(
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
