"""Clean and validate in bounded batches of rows: the out-of-core engines' way through the
per-row steps, with the same answers as one pass over the whole frame.

Every standardiser and most checks read one row at a time, so they run batch by batch; their
slow parsers keep the answers for distinct values in one DistinctCache across the batches, so a
phone number or a date seen in batch 1 is not parsed again in batch 9. The checks that compare
rows with each other (unique, row_count, freshness) read, from every batch, only the columns they
need (and the rows their `when:` selects), and run once on those narrow columns. The working
copies each step makes (a frame per step, its changes) are a batch's, not the file's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from crmclean.core import cleaning
from crmclean.core.checks import checks
from crmclean.core.checks.base import sql_columns
from crmclean.core.cleaning import CleanResult
from crmclean.core.contracts import CHANGES_SCHEMA, RECORD_ID, STATS_SCHEMA, VIOLATIONS_SCHEMA
from crmclean.core.problems import RuleSetupError
from crmclean.core.rules.check_plan import Environment, PlannedRule, context, plan
from crmclean.core.standardise.base import DistinctCache
from crmclean.core.validation import (
    ValidationResult,
    normalise_nulls,
    rule_result,
    rule_violations,
    score,
    setup_problems,
)

if TYPE_CHECKING:
    from crmclean.core.checks.base import CheckContext
    from crmclean.core.rules.rule_file import RuleFile

DEFAULT_BATCH_ROWS = 100_000
# the checks that compare rows with each other: they see every batch's narrow columns at once
WHOLE_DATASET_CHECKS = frozenset({"unique"})


def batches(frame: pl.DataFrame, rows: int) -> Iterator[pl.DataFrame]:
    """Consecutive slices of `rows` rows (zero-copy); one empty slice for an empty frame."""
    for start in range(0, max(frame.height, 1), rows):
        yield frame.slice(start, rows)


def with_record_id(frame: pl.DataFrame) -> pl.DataFrame:
    """The row numbers clean() would give, numbered over the whole frame, not per batch."""
    if RECORD_ID in frame.columns:
        return frame
    return frame.with_row_index(RECORD_ID, offset=1).with_columns(pl.col(RECORD_ID).cast(pl.String))


def clean_batches(
    frame: pl.DataFrame,
    rules: RuleFile,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    *,
    changes: bool = True,
    cache: DistinctCache | None = None,
) -> Iterator[tuple[pl.DataFrame, list[pl.DataFrame], pl.DataFrame]]:
    """`cleaning.clean_parts` batch by batch, sharing one cache of slow answers: each batch's
    cleaned rows, its changes one frame per step, and its step statistics."""
    problems = cleaning.setup_problems(rules, frame.columns)
    if problems:
        raise RuleSetupError(problems)
    cache = cache if cache is not None else DistinctCache(max_rows=batch_rows)
    for batch in batches(with_record_id(frame), batch_rows):
        yield cleaning.clean_parts(batch, rules, changes=changes, cache=cache)


def clean_batched(
    frame: pl.DataFrame,
    rules: RuleFile,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    *,
    changes: bool = True,
    cache: DistinctCache | None = None,
) -> CleanResult:
    """What `cleaning.clean(frame, rules)` gives, cleaned in batches: the same frame and
    changes (step by step, as one pass orders them); the step statistics summed over the
    batches (`unique_inputs` and `slow_inputs` then count what each batch parsed, not what the
    cache answered)."""
    frames: list[pl.DataFrame] = []
    per_step: list[list[pl.DataFrame]] = []
    stats: list[pl.DataFrame] = []
    for cleaned, parts, batch_stats in clean_batches(
        frame, rules, batch_rows, changes=changes, cache=cache
    ):
        frames.append(cleaned)
        stats.append(batch_stats)
        if not per_step:
            per_step = [[] for _ in parts]
        for step, part in zip(per_step, parts, strict=True):
            step.append(part)
    changed = [part for step in per_step for part in step]
    return CleanResult(
        pl.concat(frames),
        pl.concat(changed) if changed else _no_changes(),
        merge_stats(stats),
    )


def _no_changes() -> pl.DataFrame:
    return pl.DataFrame(schema=CHANGES_SCHEMA)


def merge_stats(stats: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """One row per column and step, the batches' counts and seconds added up."""
    if not stats:
        return pl.DataFrame(schema=STATS_SCHEMA)
    summed = ["rows", "changed", "failed", "unique_inputs", "slow_inputs", "seconds"]
    merged = (
        pl.concat(stats)
        .group_by("column", "position", "step", maintain_order=True)
        .agg(
            [pl.col(c).sum() for c in summed if c not in ("unique_inputs", "slow_inputs")]
            + [
                # null where the step has no slow parser, as in a single pass
                pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
                for c in ("unique_inputs", "slow_inputs")
            ]
        )
    )
    return merged.select(STATS_SCHEMA.keys()).cast(STATS_SCHEMA)  # type: ignore[arg-type]


def validate_batched(
    frame: pl.DataFrame,
    rules: RuleFile,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    *,
    reference: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
    standardised: pl.DataFrame | None = None,
    cache: DistinctCache | None = None,
) -> ValidationResult:
    """What `validation.validate` gives, checked in batches: the same results and violations in
    the same order. `standardised` (the cleaned frame, row for row) serves `on: standardised`;
    without it each batch is cleaned (no changes kept) before its checks run."""
    planned = plan(rules)
    problems = setup_problems(
        rules, frame.schema, standardised.schema if standardised is not None else None
    )
    if problems:
        raise RuleSetupError(problems)
    cache = cache if cache is not None else DistinctCache(max_rows=batch_rows)
    now = now or datetime.now(UTC)
    reference = reference or {}
    same = standardised is frame
    frame = with_record_id(frame)
    found: list[list[pl.DataFrame]] = [[] for _ in planned]
    checked = [0] * len(planned)
    narrow: list[list[pl.DataFrame]] = [[] for _ in planned]
    for start in range(0, max(frame.height, 1), batch_rows):
        batch = frame.slice(start, batch_rows)
        env = Environment(reference, now, cache=cache)  # memo per batch: it is keyed by height
        data = _batch_data(batch, rules, planned, cache, standardised, start, batch_rows, same)
        for index, rule in enumerate(planned):
            ctx = context(rules, rule, env)
            rows = data[rule.spec.on]
            if _whole(rule):
                narrow[index].append(_narrow(rule, ctx, rows))
                continue
            violations, count = rule_violations(rule, ctx, rows)
            found[index].append(violations)
            checked[index] += count
    env = Environment(reference, now, cache=cache)
    results = []
    for index, rule in enumerate(planned):
        ctx = context(rules, rule, env)
        if _whole(rule):
            violations, checked[index] = rule_violations(rule, ctx, pl.concat(narrow[index]))
            found[index] = [violations]
        violations = pl.concat(found[index]) if found[index] else _no_violations()
        found[index] = [violations]
        results.append(rule_result(rule, ctx, violations, checked[index]))
    everything = [part for parts in found for part in parts]
    violations = pl.concat(everything) if everything else _no_violations()
    return ValidationResult(results, violations, frame.height, score(results))


def _no_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATIONS_SCHEMA)


def _batch_data(
    batch: pl.DataFrame,
    rules: RuleFile,
    planned: list[PlannedRule],
    cache: DistinctCache,
    standardised: pl.DataFrame | None,
    start: int,
    rows: int,
    same: bool,
) -> dict[str, pl.DataFrame]:
    """The batch's values as the checks read them: raw, and standardised when a rule asks."""
    tokens = rules.dataset.null_tokens
    data = {"raw": normalise_nulls(batch, tokens)}
    if any(rule.spec.on == "standardised" for rule in planned):
        if same:
            data["standardised"] = data["raw"]
        else:
            cleaned = (
                standardised.slice(start, rows)
                if standardised is not None
                else cleaning.clean(batch, rules, changes=False, cache=cache).frame
            )
            data["standardised"] = normalise_nulls(cleaned, tokens)
    return data


def _whole(rule: PlannedRule) -> bool:
    """Checks that compare rows with each other, or look at the dataset as a whole."""
    return rule.check in WHOLE_DATASET_CHECKS or checks.get(rule.check).scope == "dataset"


def _narrow(rule: PlannedRule, ctx: CheckContext, rows: pl.DataFrame) -> pl.DataFrame:
    """The batch with only the columns a whole-dataset rule reads (its `when:` is applied to
    them all at once, where a failing SQL expression is reported as in a single pass)."""
    needed = [need.column for need in checks.get(rule.check).needs(rule.spec, ctx)]
    if rule.spec.when is not None:
        needed += sql_columns(rule.spec.when)
    columns = list(dict.fromkeys([RECORD_ID, *needed]))
    return rows.select(columns)
