"""The run pipeline: clean -> validate -> dedupe -> golden on frames, with the quarantine of rows
that failed an error-severity check; the golden step itself is core/golden/step.py. No files,
no printing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from crmclean.core.batched import clean_batched, validate_batched
from crmclean.core.cleaning import CleanResult, clean
from crmclean.core.contracts import RECORD_ID
from crmclean.core.golden.step import GoldenStep, PreviousRun, golden_step, review_queue
from crmclean.core.golden.strategies import MEASURE_PREFIX, HighestMeasureSpec
from crmclean.core.matching import DedupeResult, MatchingEngine, MatchModel, dedupe
from crmclean.core.matching.decisions import normalise as normalise_decisions
from crmclean.core.validation import ValidationResult, validate
from crmclean.core.value import (
    MatchedMovements,
    RollupSpec,
    ValueStep,
    as_of_date,
    match_movements,
    order_review,
    per_record,
    value_step,
)

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile


def split_quarantine(
    frame: pl.DataFrame, violations: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows without error-severity violations, and the others with the rules they failed."""
    failed = (
        violations.filter(pl.col("severity") == "error")
        .group_by(RECORD_ID)
        .agg(pl.col("rule_id").unique().sort().str.join(",").alias("quarantine_rules"))
    )
    kept = frame.join(failed, on=RECORD_ID, how="anti")
    quarantined = frame.join(failed, on=RECORD_ID, how="inner", maintain_order="left")
    return kept, quarantined


def invalid_cells(violations: pl.DataFrame) -> pl.DataFrame:
    """(record_id, column) of every cell that failed an error-severity check."""
    return (
        violations.filter((pl.col("severity") == "error") & pl.col("column").is_not_null())
        .select(RECORD_ID, "column")
        .unique()
    )


@dataclass(frozen=True)
class RunOptions:
    seed: int | None = None
    quarantine: bool = False  # rows failing error-severity checks are set aside, not matched
    previous: PreviousRun | None = None
    decisions: pl.DataFrame | None = None  # steward decisions (core.matching.decisions format)
    model: MatchModel | None = None  # reuse a trained model (the previous run's)
    reference: Mapping[str, Sequence[str]] | None = None
    now: datetime | None = None
    force: bool = False  # run blocking rules above their pair limit
    # where matching runs (polars in memory by default); closed as soon as dedupe returns
    engine: MatchingEngine | None = None
    movements: Mapping[str, pl.DataFrame] | None = None  # the rollup's tables, by name
    batch_rows: int | None = None  # clean and validate in batches of this many rows


@dataclass(frozen=True)
class RunResult:
    input_rows: int
    cleaning: CleanResult
    validation: ValidationResult
    dedupe: DedupeResult | None
    quarantine: pl.DataFrame  # input rows set aside, with `quarantine_rules`
    golden: GoldenStep
    review: pl.DataFrame
    timings: dict[str, float]
    exit_code: int
    value: ValueStep | None = None  # customer value, when the rule file has a rollup: section

    def counts(self) -> dict[str, int]:
        """Row counts in and out; `input == matched + quarantined` always holds."""
        return {
            "input": self.input_rows,
            "quarantined": self.quarantine.height,
            "matched": self.golden.crosswalk.height,
            "golden": self.golden.golden.height,
            "in_merged_golden": int((self.golden.crosswalk["how"] != "singleton").sum()),
            "pairs": self.dedupe.pairs.height if self.dedupe else 0,
            "review": self.review.height,
            "violations": self.validation.violations.height,
            "cleaning_changes": self.cleaning.changes.height,
        }


Step = Callable[[str], None]


def run_pipeline(
    frame: pl.DataFrame,
    rules: RuleFile,
    options: RunOptions | None = None,
    on_step: Step | None = None,
) -> RunResult:
    """clean -> validate (the cleaned values) -> dedupe -> golden.

    Every check runs on cleaned values, whatever its `on:`: those are the values matched and
    carried into golden records, and a row is not quarantined for formatting that cleaning fixes.
    """
    options = options or RunOptions()
    timings: dict[str, float] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        if on_step is not None:
            on_step(name)
        started = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - started, 3)

    rows = options.batch_rows
    with step("clean"):
        cleaning = clean(frame, rules) if rows is None else clean_batched(frame, rules, rows)
    with step("validate"):
        # the cleaned frame stands for the raw one too: `on: raw` has no other values to read here
        cleaned, reference, now = cleaning.frame, options.reference, options.now
        if rows is None:
            validation = validate(
                cleaned, rules, reference=reference, now=now, standardised=cleaned
            )
        else:
            validation = validate_batched(
                cleaned, rules, rows, reference=reference, now=now, standardised=cleaned
            )

    kept = cleaning.frame
    quarantined = frame.clear().with_columns(pl.lit(None, pl.String).alias("quarantine_rules"))
    if options.quarantine:
        kept, held = split_quarantine(cleaning.frame, validation.violations)
        quarantined = frame.join(
            held.select(RECORD_ID, "quarantine_rules"), on=RECORD_ID, maintain_order="left"
        )

    result: DedupeResult | None = None
    with step("dedupe"):
        if rules.matching is not None:
            result = dedupe(
                kept,
                rules.matching,
                model=options.model,
                seed=options.seed,
                decisions=options.decisions,
                force=options.force,
                engine=options.engine,
            )
            clusters = result.clusters
            if options.engine is not None:
                # the result is collected: release the engine's pairs and comparison columns
                # now, not after the golden step (the caller's close is then a no-op)
                options.engine.close()
        else:
            clusters = kept.select(RECORD_ID, pl.col(RECORD_ID).alias("cluster_id"))
    matched: MatchedMovements | None = None
    if rules.rollup is not None and options.movements is not None:
        with step("movements"):
            matched = match_movements(
                options.movements,
                rules.rollup,
                kept,
                quarantined,
                rules.dataset.source_column,
                sources=list(rules.sources),
                today=(options.now or datetime.now(UTC)).date(),  # later dates are mistakes
            )
    with step("golden"):
        golden, review = _golden(kept, clusters, result, validation, rules, options, matched)
    value = None
    if matched is not None and rules.rollup is not None:
        with step("rollup"):
            golden, review, value = add_rollup(golden, review, matched, kept, rules.rollup)
    return RunResult(
        input_rows=frame.height,
        cleaning=cleaning,
        validation=validation,
        dedupe=result,
        quarantine=quarantined,
        golden=golden,
        review=review,
        timings=timings,
        exit_code=validation.exit_code(),
        value=value,
    )


def _golden(
    kept: pl.DataFrame,
    clusters: pl.DataFrame,
    result: DedupeResult | None,
    validation: ValidationResult,
    rules: RuleFile,
    options: RunOptions,
    matched: MatchedMovements | None = None,
) -> tuple[GoldenStep, pl.DataFrame]:
    """Golden records and the review queue from the matched (non-quarantined) records."""
    records = golden_inputs(kept, rules)
    ranked_by = strategy_measures(rules)
    if ranked_by and matched is not None and rules.rollup is not None:
        # survivorship ranks members by their own movements (the source with the most revenue)
        as_of = as_of_date(rules.rollup, matched)
        records = per_record(matched, records, rules.rollup, ranked_by, as_of, MEASURE_PREFIX)
    elif ranked_by:  # no movement tables given (the Python API): the measure ties everyone
        records = records.with_columns(
            pl.lit(None, pl.Float64).alias(MEASURE_PREFIX + m) for m in sorted(ranked_by)
        )
    steward = None
    if options.decisions is not None and options.decisions.height:
        steward = normalise_decisions(options.decisions).filter(pl.col("decision") == "match")
    golden = golden_step(
        records,
        clusters,
        rules.survivorship,
        pairs=result.pairs if result else None,
        steward=steward,
        invalid=invalid_cells(validation.violations),
        previous=options.previous,
        source_column=rules.dataset.source_column,
        updated_column=rules.dataset.updated_column,
    )
    thresholds = rules.matching.thresholds if rules.matching is not None else None
    review = review_queue(
        result.pairs if result else None,
        records,
        golden.crosswalk.select(RECORD_ID, "golden_id"),
        review=thresholds.review if thresholds else 0.0,
        auto_merge=result.auto_merge if result else 0.0,
        decided=normalise_decisions(options.decisions) if options.decisions is not None else None,
        cut=result.review if result else None,
    )
    return golden, review.drop([c for c in review.columns if MEASURE_PREFIX in c])


def golden_inputs(kept: pl.DataFrame, rules: RuleFile) -> pl.DataFrame:
    """The columns golden records are built from: the data, not the source id (kept by the
    crosswalk) or the match keys `derive:` makes."""
    skip = {rules.dataset.id_column, *rules.derive} - {RECORD_ID}
    return kept.drop([c for c in kept.columns if c in skip])


def strategy_measures(rules: RuleFile) -> set[str]:
    spec = rules.survivorship
    if spec is None:
        return set()
    lists = [spec.default, *spec.columns.values()]
    lists += [g.strategies for g in spec.keep_together.values() if g.strategies]
    return {s.measure for each in lists for s in each if isinstance(s, HighestMeasureSpec)}


def add_rollup(
    golden: GoldenStep,
    review: pl.DataFrame,
    matched: MatchedMovements,
    kept: pl.DataFrame,
    spec: RollupSpec,
) -> tuple[GoldenStep, pl.DataFrame, ValueStep]:
    """Measures and key_account onto the golden records; the review queue dearest first."""
    value = value_step(matched, golden.crosswalk, spec, kept, as_of_date(spec, matched))
    records = golden.golden.join(value.values, on="golden_id", how="left", maintain_order="left")
    if spec.order_review_by is not None:
        review = order_review(review, value.values, spec.order_review_by)
    return replace(golden, golden=records), review, value
