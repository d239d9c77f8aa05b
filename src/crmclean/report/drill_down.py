"""The report's drill-down figures: from a failed or warned rule to its records (ids and masked
values, up to a cap), and from the review queue to its most uncertain pairs with the weight each
field adds. The full lists stay in violations.parquet and review.parquet."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl

from crmclean.io.run_outputs import RunOutputs
from crmclean.report.figures_matching import example_pair
from crmclean.report.report_model import (
    ExamplePair,
    Matching,
    RecordValue,
    Review,
    RuleResult,
)
from crmclean.report.review_fields import level_agreement
from crmclean.report.value_mask import Masker

RECORDS_PER_RULE = 20
REVIEW_PAIRS = 5


def rule_records(
    violations: pl.LazyFrame, mask: Masker, cap: int = RECORDS_PER_RULE
) -> dict[str, list[RecordValue]]:
    """The first `cap` offending records of every rule, in the order the checks wrote them."""
    sample = (
        violations.select("rule_id", "column", "record_id", "value")
        .group_by("rule_id", maintain_order=True)
        .head(cap)
        .collect()
    )
    out: dict[str, list[RecordValue]] = {}
    for row in sample.iter_rows(named=True):  # at most `cap` rows per rule
        record = row["record_id"]
        value = mask(row["column"], row["value"])
        out.setdefault(str(row["rule_id"]), []).append(
            RecordValue("(dataset)" if record is None else str(record), value)
        )
    return out


def review_pairs(outputs: RunOutputs, count: int = REVIEW_PAIRS) -> list[ExamplePair]:
    """The pairs of the review queue a steward should look at first: the most uncertain (match
    probability nearest 0.5), each with its per-field weights and the prior."""
    review = outputs.table("review")
    if review is None:
        return []
    names = outputs.schemas["review"].names()
    if "match_weight" not in names:
        return []
    comparisons = [c[3:] for c in names if c.startswith("bf_")]
    wanted = [
        c
        for c in ["record_id_l", "record_id_r", "match_weight", "match_probability"]
        + [f"bf_{c}" for c in comparisons]
        + [f"gamma_{c}" for c in comparisons]
        if c in names
    ]
    uncertainty = (pl.col("match_probability") - 0.5).abs()
    picked = (
        review.select(wanted)
        .filter(pl.col("match_weight").is_not_null())
        .with_columns(uncertainty.alias("_distance"))
        .bottom_k(count, by=["_distance", "record_id_l", "record_id_r"])
        .sort(["_distance", "record_id_l", "record_id_r"])
        .collect()
    )
    return [example_pair("uncertain", row, comparisons) for row in picked.iter_rows(named=True)]


def with_records(
    rules: list[RuleResult] | None, outputs: RunOutputs, mask: Masker
) -> list[RuleResult] | None:
    """The rules, each failed or warned one with its first offending records."""
    violations = outputs.table("violations")
    if not rules or violations is None:
        return rules
    records = rule_records(violations, mask)
    return [
        replace(r, records=records.get(r.rule_id, [])) if r.status != "pass" else r for r in rules
    ]


def with_named_examples(matching: Matching | None, outputs: RunOutputs) -> Matching | None:
    """The example pairs' levels named as the review screen names them."""
    if matching is None or not matching.example_pairs:
        return matching
    levels = level_names(outputs.summary("model"))
    return replace(matching, example_pairs=[_named(p, levels) for p in matching.example_pairs])


def with_top_pairs(review: Review | None, outputs: RunOutputs) -> Review | None:
    if review is None:
        return None
    levels = level_names(outputs.summary("model"))
    pairs = [_named(p, levels) for p in review_pairs(outputs)]
    return replace(review, top_pairs=pairs, folder=str(outputs.folder))


def level_names(model: dict[str, Any] | None) -> dict[str, dict[int, str]]:
    """Comparison -> gamma -> the level's name, from the run's model.json (empty without)."""
    try:
        return {
            str(c["name"]): {int(lv["gamma"]): str(lv["label"]) for lv in c["levels"]}
            for c in (model or {}).get("comparisons", [])
        }
    except (KeyError, TypeError, ValueError):
        return {}  # an older format: the report shows level numbers


def _named(pair: ExamplePair, levels: dict[str, dict[int, str]]) -> ExamplePair:
    """Each contribution with its level's name and agreement word, as the review screen says."""
    named = []
    for c in pair.contributions:
        if c.level is None:
            named.append(c)
            continue
        names = levels.get(c.comparison, {})
        top = max(names) if names else None
        label = "null" if c.level < 0 else names.get(c.level)
        named.append(replace(c, label=label, agreement=level_agreement(c.level, top) or None))
    return replace(pair, contributions=named)
