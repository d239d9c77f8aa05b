"""The run pipeline: validate -> clean -> dedupe -> golden on frames, and the pure golden step
(ids, survivorship, crosswalk, review queue, quarantine) it ends with. No files, no printing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from crmclean.core.cleaning import CleanResult, clean
from crmclean.core.golden_ids import IdState, assign_golden_ids, describe_changes
from crmclean.core.matching import DedupeResult, MatchModel, dedupe
from crmclean.core.matching.decisions import normalise as normalise_decisions
from crmclean.core.survivorship import SurvivorshipSpec, build_golden
from crmclean.core.validation import ValidationResult, validate

if TYPE_CHECKING:
    from crmclean.config.models import RuleFile

RECORD_ID = "record_id"
CROSSWALK_SCHEMA = pl.Schema(
    {
        "record_id": pl.String(),
        "golden_id": pl.String(),
        "match_probability": pl.Float64(),
        "how": pl.String(),  # singleton | matched | steward
    }
)
PAIR_KEYS = ["record_id_l", "record_id_r"]


@dataclass(frozen=True)
class PreviousRun:
    """What the golden step needs from the previous night's outputs."""

    crosswalk: pl.DataFrame  # record_id, golden_id
    golden: pl.DataFrame | None
    id_state: IdState


@dataclass(frozen=True)
class GoldenStep:
    golden: pl.DataFrame
    crosswalk: pl.DataFrame
    lineage: pl.DataFrame
    changes: pl.DataFrame  # changes since the previous run (every id "created" on a first run)
    id_state: IdState


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


def crosswalk(
    members: pl.DataFrame, pairs: pl.DataFrame | None, steward: pl.DataFrame | None = None
) -> pl.DataFrame:
    """record_id -> golden_id, with the best probability linking it inside its golden record
    and how it joined: alone, by the model, or by a steward's `match` decision (a must-link
    pair need not have been scored at all)."""
    size = pl.len().over("golden_id")
    base = members.select(RECORD_ID, "golden_id")
    links = [
        pl.DataFrame(
            schema={
                "record_id_l": pl.String,
                "record_id_r": pl.String,
                "match_probability": pl.Float64,
                "__s": pl.Boolean,
            }
        )
    ]
    if pairs is not None and pairs.height:
        links.append(
            pairs.select(*PAIR_KEYS, "match_probability").with_columns(pl.lit(False).alias("__s"))
        )
    if steward is not None and steward.height:
        links.append(
            steward.select(
                *PAIR_KEYS, pl.lit(None, pl.Float64).alias("match_probability")
            ).with_columns(pl.lit(True).alias("__s"))
        )
    gid = base.rename({RECORD_ID: "__rid"})
    edges = (
        pl.concat(links, how="vertical_relaxed")
        .join(gid.rename({"__rid": "record_id_l", "golden_id": "__gl"}), on="record_id_l")
        .join(gid.rename({"__rid": "record_id_r", "golden_id": "__gr"}), on="record_id_r")
        .filter(pl.col("__gl") == pl.col("__gr"))
    )
    ends = pl.concat(
        [
            edges.select(pl.col(side).alias(RECORD_ID), "match_probability", "__s")
            for side in PAIR_KEYS
        ]
    )
    best = ends.group_by(RECORD_ID).agg(
        pl.col("match_probability").max(), pl.col("__s").any().alias("__steward")
    )
    return (
        base.join(best, on=RECORD_ID, how="left")
        .with_columns(
            pl.when(size == 1)
            .then(pl.lit("singleton"))
            .when(pl.col("__steward").fill_null(False))
            .then(pl.lit("steward"))
            .otherwise(pl.lit("matched"))
            .alias("how"),
            pl.when(size == 1)
            .then(None)
            .otherwise(pl.col("match_probability"))
            .alias("match_probability"),
        )
        .select(list(CROSSWALK_SCHEMA))
        .cast(CROSSWALK_SCHEMA)
        .sort("golden_id", RECORD_ID)
    )


def golden_step(
    records: pl.DataFrame,
    clusters: pl.DataFrame,
    spec: SurvivorshipSpec | None,
    *,
    pairs: pl.DataFrame | None = None,
    steward: pl.DataFrame | None = None,
    invalid: pl.DataFrame | None = None,
    previous: PreviousRun | None = None,
    source_column: str | None = None,
    updated_column: str | None = None,
) -> GoldenStep:
    """Golden ids (stable against `previous`), golden records, lineage, crosswalk, changes."""
    assignment = assign_golden_ids(
        clusters,
        previous.crosswalk if previous else None,
        previous.id_state if previous else None,
    )
    result = build_golden(
        records,
        assignment.members,
        spec,
        invalid=invalid,
        source_column=source_column,
        updated_column=updated_column,
    )
    changes = describe_changes(assignment, previous.golden if previous else None, result.golden)
    return GoldenStep(
        golden=result.golden,
        crosswalk=crosswalk(assignment.members, pairs, steward),
        lineage=result.lineage,
        changes=changes,
        id_state=assignment.state,
    )


def review_queue(
    pairs: pl.DataFrame | None,
    records: pl.DataFrame,
    members: pl.DataFrame,
    *,
    review: float,
    auto_merge: float,
    decided: pl.DataFrame | None = None,
    cut: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Pairs in the review band [review, auto_merge), and merge-level pairs the clustering
    guards `cut`, that no steward has decided yet; with both records' values side by side
    (`<column>_l`, `<column>_r`) and their golden ids."""
    values = [c for c in records.columns if c != RECORD_ID]
    schema = {
        "record_id_l": pl.String,
        "record_id_r": pl.String,
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "blocking_rule": pl.String,
    }
    if pairs is None:
        pairs = pl.DataFrame(schema=schema)
    in_band = (pl.col("match_probability") >= review) & (pl.col("match_probability") < auto_merge)
    band = pairs.filter(in_band).with_columns(pl.lit("review band").alias("reason"))
    if cut is not None and cut.height:
        reasons = cut.select(*PAIR_KEYS, "reason").unique(PAIR_KEYS)
        band = pl.concat(
            [band, pairs.filter(~in_band).join(reasons, on=PAIR_KEYS, how="inner")],
            how="vertical_relaxed",
        )
    if decided is not None and decided.height:
        band = band.join(decided.select(PAIR_KEYS).unique(), on=PAIR_KEYS, how="anti")
    ids = members.select(RECORD_ID, "golden_id")
    for side in ("l", "r"):
        renamed = records.select(
            pl.col(RECORD_ID).alias(f"record_id_{side}"),
            *[pl.col(c).alias(f"{c}_{side}") for c in values],
        )
        band = band.join(renamed, on=f"record_id_{side}", how="left").join(
            ids.rename({RECORD_ID: f"record_id_{side}", "golden_id": f"golden_id_{side}"}),
            on=f"record_id_{side}",
            how="left",
        )
    return band.sort(["match_probability", *PAIR_KEYS], descending=[True, False, False])


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

    with step("clean"):
        cleaning = clean(frame, rules)
    with step("validate"):
        # the cleaned frame stands for the raw one too: `on: raw` has no other values to read here
        validation = validate(
            cleaning.frame,
            rules,
            reference=options.reference,
            now=options.now,
            standardised=cleaning.frame,
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
            )
            clusters = result.clusters
        else:
            clusters = kept.select(RECORD_ID, pl.col(RECORD_ID).alias("cluster_id"))
    with step("golden"):
        golden, review = _golden(kept, clusters, result, validation, rules, options)
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
    )


def _golden(
    kept: pl.DataFrame,
    clusters: pl.DataFrame,
    result: DedupeResult | None,
    validation: ValidationResult,
    rules: RuleFile,
    options: RunOptions,
) -> tuple[GoldenStep, pl.DataFrame]:
    """Golden records and the review queue from the matched (non-quarantined) records."""
    # golden records carry the data, not the source id (kept by the crosswalk) or match keys
    skip = {rules.dataset.id_column, *rules.derive} - {RECORD_ID}
    records = kept.drop([c for c in kept.columns if c in skip])
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
        auto_merge=thresholds.auto_merge if thresholds else 0.0,
        decided=normalise_decisions(options.decisions) if options.decisions is not None else None,
        cut=result.review if result else None,
    )
    return golden, review
