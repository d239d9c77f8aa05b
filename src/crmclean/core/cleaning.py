"""Standardise a frame by its rule file: `clean(frame, rules) -> CleanResult`.

Pure: frames in, frames out. Every changed cell is recorded in `changes`
(`record_id, column, before, after, step, error`); values that failed to standardise keep their
original and are listed with the reason. Derived columns (`derive:`) are added at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from crmclean.core.contracts import CHANGES_SCHEMA, RECORD_ID, STATS_SCHEMA
from crmclean.core.problems import RuleSetupError, SetupProblem, missing_column_hint
from crmclean.core.standardise import StepSpec, derive_steps
from crmclean.core.standardise.base import DistinctCache, StepContext, StepResult

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile


Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class CleanResult:
    frame: pl.DataFrame  # the cleaned frame: same rows and order, derived columns appended
    changes: pl.DataFrame  # CHANGES_SCHEMA, one row per changed or failed cell per step
    step_stats: pl.DataFrame  # STATS_SCHEMA, one row per column and step (derive included)


@dataclass
class _Run:
    """Accumulates changes and statistics while the steps run."""

    record_id: pl.Series
    changes: list[pl.DataFrame]
    stats: list[dict[str, Any]]


def setup_problems(rules: RuleFile, columns: list[str]) -> list[SetupProblem]:
    """Columns the standardisation and derive sections need but the data lacks."""
    present = set(columns)
    problems: list[SetupProblem] = []
    country = rules.dataset.country_column
    if country and country not in present and _uses_country(rules):
        problems.append(
            SetupProblem(
                ("dataset", "country_column"),
                f"column {country!r} is not in the data",
                _close(country, columns),
            )
        )
    for name, column in rules.columns.items():
        # a required column that is absent is as fatal here as in validate and run
        if (column.standardise or column.required) and name not in present:
            hint = _close(name, columns)
            at: Path_ = ("columns", name, "required") if column.required else ("columns", name)
            problems.append(SetupProblem(at, f"column {name!r} is not in the data", hint))
    for name, spec in rules.derive.items():
        for source in spec.sources:
            if source not in present:
                hint = _close(source, columns)
                problems.append(
                    SetupProblem(("derive", name, "from"), f"column {source!r} is not here", hint)
                )
        present.add(name)
    return problems


def _close(name: str, columns: list[str]) -> str:
    """In the data's own column order, as validation words it: one problem, said once."""
    return missing_column_hint(name, columns)


def _uses_country(rules: RuleFile) -> bool:
    return any(
        step.type in ("phone", "postcode", "street")
        for column in rules.columns.values()
        for step in column.standardise
    )


def clean(
    frame: pl.DataFrame,
    rules: RuleFile,
    *,
    changes: bool = True,
    cache: DistinctCache | None = None,
) -> CleanResult:
    """Standardise every column with `standardise:` steps, then add the `derive:` columns.

    `changes=False` leaves `changes` empty: a caller that needs only the cleaned frame (dedupe)
    does not pay for a row per changed cell (millions at a million records). `cache` keeps slow
    answers for distinct values across the batches of one run (core/batched.py)."""
    cleaned, parts, stats = clean_parts(frame, rules, changes=changes, cache=cache)
    changed = pl.concat(parts) if parts else pl.DataFrame(schema=CHANGES_SCHEMA)
    return CleanResult(cleaned, changed, stats)


def clean_parts(
    frame: pl.DataFrame,
    rules: RuleFile,
    *,
    changes: bool = True,
    cache: DistinctCache | None = None,
) -> tuple[pl.DataFrame, list[pl.DataFrame], pl.DataFrame]:
    """`clean`'s frame, its changes still one frame per step and column (the batched clean
    puts each step's changes of every batch together, in the order one pass gives), and its
    statistics."""
    problems = setup_problems(rules, frame.columns)
    if problems:
        raise RuleSetupError(problems)
    if RECORD_ID not in frame.columns:
        frame = frame.with_row_index(RECORD_ID, offset=1).with_columns(
            pl.col(RECORD_ID).cast(pl.String)
        )
    run = _Run(frame.get_column(RECORD_ID).cast(pl.String), [], [])
    for name in column_order(rules):
        ctx = replace(step_context(rules, name), cache=cache)
        for position, spec in enumerate(rules.columns[name].standardise):
            at = replace(ctx, step=("columns", name, position))
            frame = _apply(frame, spec, at, position, run, record=changes)
    for name, derive in rules.derive.items():
        frame = frame.with_columns(derive_source(derive.sources, derive.separator).alias(name))
        ctx = replace(step_context(rules, name), cache=cache)
        for position, spec in enumerate(derive.steps):
            at = replace(ctx, step=("derive", name, position))
            frame = _apply(frame, spec, at, position, run, record=False)
    return frame, run.changes, pl.DataFrame(run.stats, schema=STATS_SCHEMA)


def column_order(rules: RuleFile) -> list[str]:
    """Columns with steps, the country column first: phones and postcodes read it cleaned."""
    names = [name for name, column in rules.columns.items() if column.standardise]
    country = rules.dataset.country_column
    return sorted(names, key=lambda name: name != country)


def step_context(rules: RuleFile, column: str) -> StepContext:
    dataset = rules.dataset
    return StepContext(
        column=column,
        country_column=dataset.country_column,
        default_region=dataset.default_region,
        date_order=dataset.date_order,
        null_tokens=tuple(dataset.null_tokens),
    )


def derive_source(sources: list[str], separator: str) -> pl.Expr:
    if len(sources) == 1:
        return pl.col(sources[0]).cast(pl.String)
    joined = pl.concat_str(
        [pl.col(s).cast(pl.String) for s in sources], separator=separator, ignore_nulls=True
    )
    return pl.when(joined == "").then(None).otherwise(joined)


def _apply(
    frame: pl.DataFrame, spec: StepSpec, ctx: StepContext, position: int, run: _Run, record: bool
) -> pl.DataFrame:
    standardiser = derive_steps.get(spec.type)
    started = time.perf_counter()
    result = standardiser.apply(spec, frame, ctx)
    seconds = time.perf_counter() - started
    before = frame.get_column(ctx.column).cast(pl.String)
    after = result.values.cast(pl.String).alias(ctx.column)
    errors = _errors(result, frame.height)
    changed = before.ne_missing(after)
    if record:
        run.changes.append(_changes(run.record_id, ctx.column, before, after, errors, spec.type))
    updates = [after]
    for out_name, out_values in result.outputs.items():
        old = (
            frame.get_column(out_name).cast(pl.String)
            if out_name in frame.columns
            else pl.Series(out_name, [None] * frame.height, dtype=pl.String)
        )
        new = out_values.cast(pl.String).fill_null(old).alias(out_name)
        if record:
            run.changes.append(_changes(run.record_id, out_name, old, new, None, spec.type))
        updates.append(new)
    run.stats.append(
        {
            "column": ctx.column,
            "position": position,
            "step": spec.type,
            "rows": frame.height,
            "changed": int(changed.sum()),
            "failed": int(errors.is_not_null().sum()),
            "unique_inputs": result.unique_inputs,
            "slow_inputs": result.slow_inputs,
            "seconds": seconds,
        }
    )
    return frame.with_columns(updates)


def _errors(result: StepResult, height: int) -> pl.Series:
    if result.errors is None:
        return pl.Series("error", [None] * height, dtype=pl.String)
    return result.errors.cast(pl.String).alias("error")


def _changes(
    record_id: pl.Series,
    column: str,
    before: pl.Series,
    after: pl.Series,
    errors: pl.Series | None,
    step: str,
) -> pl.DataFrame:
    error = errors if errors is not None else pl.Series([None] * len(before), dtype=pl.String)
    table = pl.DataFrame(
        {
            "record_id": record_id,
            "before": before.alias("before"),
            "after": after.alias("after"),
            "error": error.alias("error"),
        }
    )
    return table.filter(
        pl.col("before").ne_missing(pl.col("after")) | pl.col("error").is_not_null()
    ).select(
        "record_id",
        pl.lit(column, dtype=pl.String).alias("column"),
        "before",
        "after",
        pl.lit(step, dtype=pl.String).alias("step"),
        "error",
    )
