"""Why two records did or did not match: their values, level and Bayes factor per comparison.

The pair is recomputed from the cleaned records with the saved model (term frequencies come from
the whole frame, as in the run), so pairs below the review threshold or never blocked together
can be explained too.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.comparing import compare, comparison_levels
from crmclean.core.matching.scoring import BLOCKED, HOUSEHOLD, MatchModel, score
from crmclean.core.matching.spec import MatchingSpec
from crmclean.errors import UsageError


def _key(value: Any) -> str | None:
    text = None if value is None else str(value).strip().lower()
    return text or None


def blocking_rules_holding(
    left: dict[str, Any], right: dict[str, Any], spec: MatchingSpec
) -> list[str]:
    """Labels of the blocking rules under which the two records share a block."""
    out = []
    for rule in spec.blocking:
        keys = [(_key(left.get(c)), _key(right.get(c))) for c in rule.columns]
        words = [c in rule.any_word for c in rule.columns]
        if all(_agree(a, b, w) for (a, b), w in zip(keys, words, strict=True)):
            out.append(rule.label)
    return out


def _agree(a: str | None, b: str | None, any_word: bool) -> bool:
    if a is None or b is None:
        return False
    return bool(set(a.split()) & set(b.split())) if any_word else a == b


def explain_pair(
    frame: pl.DataFrame, spec: MatchingSpec, model: MatchModel, record_a: str, record_b: str
) -> dict[str, Any]:
    """Values, level and Bayes factor per comparison, the weight, probability and rules."""
    low, high = sorted((str(record_a), str(record_b)))
    if low == high:
        raise UsageError("explain needs two different record ids")
    ordered = frame.with_columns(pl.col(RECORD_ID).cast(pl.String)).sort(RECORD_ID)
    positions = ordered.with_row_index("_row").filter(pl.col(RECORD_ID).is_in([low, high]))
    found = dict(zip(positions.get_column(RECORD_ID), positions.get_column("_row"), strict=True))
    missing = [r for r in (low, high) if r not in found]
    if missing:
        raise UsageError(
            f"record id(s) not in the run's data: {', '.join(missing)} (give ids from the "
            "rule file's dataset.id_column, as in the run's clusters.parquet)"
        )
    pairs = pl.DataFrame(
        {"row_l": [found[low]], "row_r": [found[high]]},
        schema={"row_l": pl.UInt32, "row_r": pl.UInt32},
    )
    scored = score(compare(ordered, pairs, spec.comparisons), model).row(0, named=True)
    left = ordered.row(found[low], named=True)
    right = ordered.row(found[high], named=True)
    rows = []
    for comparison in spec.comparisons:
        gamma = int(scored[f"gamma_{comparison.name}"])
        label = next(lv.label for lv in comparison_levels(comparison) if lv.gamma == gamma)
        rows.append(
            {
                "name": comparison.name,
                "column": comparison.column,
                "left": left.get(comparison.column),
                "right": right.get(comparison.column),
                "gamma": gamma,
                "level": label,
                "bayes_factor": float(scored[f"bf_{comparison.name}"]),
            }
        )
    return {
        "record_id_l": low,
        "record_id_r": high,
        "comparisons": rows,
        "prior_weight": model.prior_weight,
        # the third class (training.household): how much the chance that the two are different
        # people of one household takes from the weight; prior + bayes factors + this = total
        "household_weight": float(scored[HOUSEHOLD]) if HOUSEHOLD in scored else None,
        # never surer than the blocked pairs' three-class posterior: what that takes away
        "blocked_weight": float(scored[BLOCKED]) if BLOCKED in scored else None,
        "match_weight": float(scored["match_weight"]),
        "match_probability": float(scored["match_probability"]),
        "blocking_rules": blocking_rules_holding(left, right, spec),
    }


def verdict(
    explanation: dict[str, Any], spec: MatchingSpec, same_cluster: bool, decision: str | None
) -> str:
    """One sentence for a steward: what happened to this pair and why."""
    p = explanation["match_probability"]
    thresholds = spec.thresholds
    if decision is not None:
        return f"steward decision: {decision}" + (" (same cluster)" if same_cluster else "")
    if same_cluster and p >= thresholds.merge_at:
        return f"merged: probability {p:.4f} >= auto_merge {thresholds.merge_at}"
    if same_cluster:
        return "same cluster through other records (transitively), not by this pair alone"
    if not explanation["blocking_rules"]:
        return "never compared: no blocking rule puts them in one block"
    if p >= thresholds.merge_at:
        return (
            "above auto_merge but kept apart by a cluster guard (size cap, chain, bridge or "
            "cannot-link: review.parquet's reason names it)"
        )
    if p >= thresholds.review:
        return f"for review: {thresholds.review} <= probability < auto_merge {thresholds.merge_at}"
    return f"no match: probability {p:.4f} < review {thresholds.review}"
