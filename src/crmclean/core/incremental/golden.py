"""Golden records of an incremental run: the touched clusters get golden ids (stable against
their previous records), survivorship, crosswalk rows and review pairs afresh; every other
golden record, crosswalk row, lineage row and review pair is carried over as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from crmclean.core.contracts import PAIR_KEYS, RECORD_ID
from crmclean.core.golden.ids import assign_golden_ids, describe_changes
from crmclean.core.golden.step import GoldenStep, crosswalk, review_queue
from crmclean.core.golden.survivorship import build_golden
from crmclean.core.incremental.state import PreviousState
from crmclean.core.matching.spec import ThresholdSpec
from crmclean.core.pipeline import golden_inputs, invalid_cells
from crmclean.core.validation import ValidationResult

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile


def _in(ids: pl.Series, column: str = RECORD_ID) -> pl.Expr:
    return pl.col(column).is_in(ids.implode())


def golden_again(
    whole: pl.DataFrame,
    members: pl.Series,
    old_members: pl.Series,
    clusters: pl.DataFrame,
    pairs: pl.DataFrame | None,
    cut: pl.DataFrame | None,
    validation: ValidationResult,
    rules: RuleFile,
    state: PreviousState,
    decided: pl.DataFrame,
) -> tuple[GoldenStep, pl.DataFrame]:
    """`members`: today's records clustered again (`clusters`); `old_members`: the previous
    records of the clusters they replace. The golden step and review queue of the whole run."""
    was = state.crosswalk.filter(_in(old_members)).get_column("golden_id").unique()
    previous = state.crosswalk.filter(_in(was, "golden_id")).select(RECORD_ID, "golden_id")
    assignment = assign_golden_ids(clusters, previous, state.id_state)
    records = golden_inputs(whole, rules)
    built = build_golden(
        records.filter(_in(members)),
        assignment.members,
        rules.survivorship,
        invalid=invalid_cells(validation.violations.filter(_in(members))),
        source_column=rules.dataset.source_column,
        updated_column=rules.dataset.updated_column,
    )
    base = built.golden.columns
    carried = state.golden.filter(~_in(was, "golden_id"))
    golden = in_golden_id_order(
        pl.concat(
            [carried.select([c for c in base if c in carried.columns]), built.golden],
            how="diagonal_relaxed",
        ).select(base),
        carried.height,
    )
    changes = describe_changes(assignment, state.golden.filter(_in(was, "golden_id")), built.golden)
    steward = decided.filter(pl.col("decision") == "match")
    near = (
        pairs.filter(_in(members, "record_id_l") | _in(members, "record_id_r"))
        if pairs is not None
        else None
    )
    inside = (
        near.filter(_in(members, "record_id_l") & _in(members, "record_id_r"))
        if near is not None
        else None
    )
    links = crosswalk(assignment.members, inside, steward)
    every = pl.concat(
        [state.crosswalk.filter(~_in(was, "golden_id")).cast(links.schema), links]
    ).sort("golden_id", RECORD_ID)
    kept_lineage = state.lineage.filter(~_in(was, "golden_id")).cast(built.lineage.schema)
    lineage = in_golden_id_order(pl.concat([kept_lineage, built.lineage]), kept_lineage.height)
    step = GoldenStep(golden, every, lineage, changes, assignment.state)
    thresholds = rules.matching.thresholds if rules.matching is not None else None
    fresh = review_queue(
        near,
        records,
        every.select(RECORD_ID, "golden_id"),
        review=thresholds.review if thresholds else 0.0,
        auto_merge=thresholds.merge_at if thresholds else 0.0,
        decided=decided,
        cut=cut,
    )
    moved = pl.concat([members, old_members]).unique()
    kept = state.review.filter(~_in(moved, "record_id_l") & ~_in(moved, "record_id_r"))
    review = pl.concat(
        [kept.select([c for c in fresh.columns if c in kept.columns]), fresh],
        how="diagonal_relaxed",
    ).select(fresh.columns)
    review = review.sort(["match_probability", *PAIR_KEYS], descending=[True, False, False])
    return step, review


def in_golden_id_order(frame: pl.DataFrame, carried: int) -> pl.DataFrame:
    """`frame` (the first `carried` rows carried over, the rest built again; no golden id in
    both) sorted by golden_id as a stable sort would: merged, not sorted again, when the
    carried rows are in golden_id order already (a previous incremental run wrote them so)."""
    old, new = frame.head(carried), frame.slice(carried)
    if not old.get_column("golden_id").is_sorted():
        return frame.sort("golden_id", maintain_order=True)
    new = new.sort("golden_id", maintain_order=True)
    return old.merge_sorted(new, "golden_id", maintain_order=True)


def dedupe_stats(
    state: PreviousState,
    compared: int,
    pairs: pl.DataFrame,
    clusters: pl.DataFrame,
    clustering: dict[str, Any],
    thresholds: ThresholdSpec,
) -> dict[str, Any]:
    """dedupe.json's figures: today's pairs and clusters; blocking recall and the training
    are the previous run's (the model is)."""
    p = pairs.get_column("match_probability")
    sizes = clusters.group_by("cluster_id").len().get_column("len")
    bins = [
        (1, 1, "1"),
        (2, 2, "2"),
        (3, 3, "3"),
        (4, 5, "4-5"),
        (6, 10, "6-10"),
        (11, None, "11+"),
    ]
    histogram = {
        label: int(((sizes >= lo) & (sizes <= (hi or sizes.max() or 1))).sum())
        for lo, hi, label in bins
    }
    return {
        **state.dedupe_stats,
        "records": clusters.height,
        "incremental_candidate_pairs": compared,
        "pairs_above_review": pairs.height,
        "pairs_above_auto_merge": int((p >= thresholds.merge_at).sum()),
        "trained": False,
        "clustering_incremental": clustering,
        "cluster_size_histogram": histogram,
    }
