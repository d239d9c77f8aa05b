"""Assemble the report model from a run's outputs: summary, rule results, columns, standardisation.

Only aggregates and a few capped example rows are collected from the tables, so the cost and the
size of a report do not grow with the number of records. Matching and golden-record figures live
in figures_matching.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from crmclean.core.validation import SCORE_WEIGHTS
from crmclean.errors import ExitCode
from crmclean.io.run_outputs import RunOutputs
from crmclean.io.summary_files import Summaries, typed_summaries
from crmclean.report import drill_down
from crmclean.report.by_source import source_figures
from crmclean.report.clean_counts import CleanCounts, count_clean
from crmclean.report.figures_matching import golden_section, matching_section, review_section
from crmclean.report.figures_value import value_section
from crmclean.report.report_model import (
    ColumnProfile,
    ReportModel,
    RuleResult,
    Standardisation,
    StepChanges,
    Summary,
)
from crmclean.report.review_precision import with_precision
from crmclean.report.trend import trend_part
from crmclean.report.value_mask import Masker, make_masker
from crmclean.summaries import RuleOutcome
from crmclean.version import __version__

EXAMPLES_PER_RULE = 3
MAX_RULES = 200  # a report lists at most this many rules (the worst first)
SCORE_METHOD = (
    "100 × the weighted mean of (1 − share of checked rows violating the rule) over the rules; "
    "weights: error {error:g}, warn {warn:g}, info {info:g}. 100 means no rule found a violation."
).format(**SCORE_WEIGHTS)
EXIT_MEANING = {
    ExitCode.OK: "ok",
    ExitCode.DATA_FAILED: "data failed a rule",
    ExitCode.USAGE: "usage or rule-file error",
    ExitCode.UNREADABLE: "unreadable input or output",
}


# Steps that change how a value is written, not what it says: they do not lead the report.
COSMETIC_STEPS = frozenset(
    {"date", "datetime", "trim", "collapse_whitespace", "nfkc", "remove_control", "lower", "upper"}
)


def build_model(outputs: RunOutputs, *, show_values: bool = False) -> ReportModel:
    typed = typed_summaries(outputs.folder, outputs.summaries)
    mask = make_masker(outputs.pii, show_values)
    rows = _rows(outputs, typed)
    # `validate --out` and `run` write violations already masked as on the console
    # (values_masked): masking them again would change some (a masked phone is no longer one).
    written_masked = typed.validate is not None and typed.validate.values_masked
    shown = _shown_as_written if written_masked else mask
    rules = drill_down.with_records(rule_results(outputs, typed, rows, shown), outputs, shown)
    counts = count_clean(outputs)  # one pass over the cleaned records for two sections
    notes = []
    if outputs.pii is None and not show_values:
        notes.append("The run did not record which columns hold personal data: all values masked.")
    if written_masked and show_values:
        notes.append("violations.parquet was written masked: its example values stay masked.")
    return ReportModel(
        summary=summary(outputs, typed, rows, rules),
        rules=rules,
        columns=column_profile(outputs, typed, rows, rules, counts),
        standardisation=standardisation(outputs),
        matching=drill_down.with_named_examples(
            matching_section(outputs, mask, typed.dedupe), outputs
        ),
        golden=golden_section(outputs),
        review=with_precision(drill_down.with_top_pairs(review_section(outputs), outputs), outputs),
        by_source=source_figures(outputs, counts),
        trend=trend_part((outputs.summary("history") or {}).get("nights")),
        value=value_section(outputs, typed.run.movements if typed.run else None),
        values_shown=show_values,
        notes=notes,
    )


def _shown_as_written(column: str | None, value: str | None) -> str | None:
    return value


def _count(frame: pl.LazyFrame) -> int:
    return int(frame.select(pl.len()).collect().item())


def _rows(outputs: RunOutputs, typed: Summaries) -> int | None:
    if typed.run is not None:
        return typed.run.rows.get("input")
    if typed.validate is not None:
        return typed.validate.summary.rows
    if typed.clean is not None:
        return typed.clean.rows
    for name in ("clusters", "clean"):
        table = outputs.table(name)
        if table is not None:
            return _count(table)
    return None


def _quarantined(outputs: RunOutputs, typed: Summaries) -> int | None:
    if typed.run is not None and "quarantined" in typed.run.rows:
        return typed.run.rows["quarantined"]
    table = outputs.table("quarantine")
    return _count(table) if table is not None else None


def _command(outputs: RunOutputs, typed: Summaries) -> str:
    """The command that wrote the folder: `run` writes the others' summaries too."""
    for name in ("run", "dedupe", "clean", "validate"):
        if getattr(typed, name) is not None:
            return name
    if outputs.has("golden"):
        return "run"
    return "dedupe" if outputs.has("clusters") else "unknown"


def _input(typed: Summaries) -> Mapping[str, Any] | None:
    """What the command read (ReadInfo.to_dict()), from the summary of the command."""
    if typed.run is not None:
        return typed.run.inputs[0] if typed.run.inputs else None
    for part in (typed.validate, typed.clean):
        if part is not None:
            return part.input
    return None


def summary(
    outputs: RunOutputs, typed: Summaries, rows: int | None, rules: list[RuleResult] | None
) -> Summary:
    run, validate, clean = typed.run, typed.validate, typed.clean
    exit_status: int | None = None
    if run is not None:
        exit_status = run.exit_code
    elif validate is not None:
        exit_status = validate.summary.exit_code
    score: float | None
    if validate is not None:
        score, method = round(float(validate.score), 1), validate.score_method
    else:
        score, method = computed_score(rules), SCORE_METHOD
    meaning = EXIT_MEANING.get(ExitCode(exit_status)) if exit_status in set(ExitCode) else None
    files = sorted(
        [f"{name}.json" for name in outputs.summaries]
        + [f"{name}.parquet" for name in outputs.tables]
    )
    facts = run or validate or clean
    version = run.crmclean_version if run else (validate.crmclean_version if validate else None)
    read = _input(typed)
    path = read.get("path") if read else None
    rule_file = facts.rule_file if facts else (typed.dedupe.rule_file if typed.dedupe else None)
    return Summary(
        command=_command(outputs, typed),
        input=path if isinstance(path, str) else None,
        rows=rows,
        quarantined=_quarantined(outputs, typed),
        rule_file=rule_file,
        version=version or __version__,
        started_at=facts.started_at if facts else None,
        finished_at=facts.finished_at if facts else None,
        exit_status=exit_status,
        exit_meaning=meaning,
        score=score,
        score_method=method,
        outputs=files,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def computed_score(rules: list[RuleResult] | None) -> float | None:
    """The validate step's score (core.validation.score), for folders whose summary lacks it."""
    if rules is None:
        return None
    weighted = [(SCORE_WEIGHTS.get(r.severity, 1.0), r.share) for r in rules if r.checked != 0]
    total = sum(w for w, _ in weighted)
    if total == 0:
        return 100.0
    return round(100.0 * sum(w * (1.0 - min(s, 1.0)) for w, s in weighted) / total, 1)


def _status(severity: str, share: float, threshold: float | None) -> str:
    if share == 0 or share <= (threshold or 0.0) or severity == "info":
        return "pass"
    return "fail" if severity == "error" else "warn"


def rule_results(
    outputs: RunOutputs, typed: Summaries, rows: int | None, mask: Masker
) -> list[RuleResult] | None:
    """Per-rule results: validate.json's when the folder has one, else counted from violations."""
    listed = typed.validate.results if typed.validate is not None else None
    violations = outputs.table("violations")
    if listed is None and violations is None:
        return None
    examples = _examples(violations, mask) if violations is not None else {}
    results: list[RuleResult] = []
    if listed is not None:
        results = [_rule_from_summary(item, examples) for item in listed]
    elif violations is not None:
        counts = (
            violations.group_by("rule_id")
            .agg(
                pl.col("check").first(),
                pl.col("column").first(),
                pl.col("severity").first(),
                pl.len().alias("violations"),
            )
            .sort("rule_id")
            .collect()
        )
        for row in counts.iter_rows(named=True):
            share = row["violations"] / rows if rows else 0.0
            severity = str(row["severity"] or "error")
            results.append(
                RuleResult(
                    rule_id=str(row["rule_id"]),
                    check=row["check"],
                    column=row["column"],
                    severity=severity,
                    status=_status(severity, share, None),
                    checked=rows,
                    violations=int(row["violations"]),
                    share=round(share, 6),
                    threshold=None,
                    description=None,
                    examples=examples.get(str(row["rule_id"]), []),
                )
            )
    order = {"fail": 0, "warn": 1, "pass": 2}
    results.sort(key=lambda r: (order.get(r.status, 3), -r.share, r.rule_id))
    return results[:MAX_RULES]


def _rule_from_summary(item: RuleOutcome, examples: dict[str, list[str]]) -> RuleResult:
    return RuleResult(
        rule_id=item.rule_id,
        check=item.check,
        column=item.column,
        severity=item.severity,
        status=item.status,
        checked=item.checked,
        violations=item.violations,
        share=round(float(item.share), 6),
        threshold=item.threshold,
        description=item.description,
        examples=examples.get(item.rule_id, []),
    )


def _examples(violations: pl.LazyFrame, mask: Masker) -> dict[str, list[str]]:
    """A few distinct violating values per rule, masked as on the console."""
    sample = (
        violations.filter(pl.col("value").is_not_null())
        .select("rule_id", "column", "value")
        .unique(subset=["rule_id", "value"], keep="first", maintain_order=True)
        .group_by("rule_id", maintain_order=True)
        .head(EXAMPLES_PER_RULE)
        .collect()
    )
    out: dict[str, list[str]] = {}
    for row in sample.iter_rows(named=True):
        out.setdefault(str(row["rule_id"]), []).append(mask(row["column"], row["value"]) or "")
    return out


def column_profile(
    outputs: RunOutputs,
    typed: Summaries,
    rows: int | None,
    rules: list[RuleResult] | None,
    counts: CleanCounts | None,
) -> list[ColumnProfile] | None:
    """Completeness per column from the records (`counts`: count_clean), validity from the
    violations."""
    violations = outputs.table("violations")
    pii = outputs.pii_columns or frozenset()
    completeness: dict[str, float | None] = {}
    if counts is not None:
        n = counts.rows()
        completeness = {c: (1 - k / n if n else None) for c, k in counts.nulls().items()}
    flagged: dict[str, int] = {}
    if violations is not None:
        per_column = (
            # info rules describe, they do not judge: they count neither in the score nor here
            violations.filter(pl.col("column").is_not_null() & (pl.col("severity") != "info"))
            .with_columns(pl.col("column").str.split(", "))  # composite keys flag each part
            .explode("column")
            .group_by("column")
            .agg(pl.col("record_id").n_unique().alias("n"))
            .collect()
        )
        flagged = {str(c): int(n) for c, n in per_column.iter_rows()}
    validated = rules is not None  # without rule results, nothing says a value is valid
    checked = [part for r in rules or [] if r.column for part in r.column.split(", ")]
    names = list(dict.fromkeys([*completeness, *checked, *sorted(flagged)]))
    read_info = _input(typed)
    read = read_info.get("columns") if read_info else None
    if read:  # the input file's columns first, in its order; derived match keys left out
        mentioned = {*checked, *flagged}
        names = [str(c) for c in read] + [n for n in names if n in mentioned and n not in read]
    if not names:
        return None
    return [
        ColumnProfile(
            column=name,
            pii=name in pii,
            completeness=_round(completeness.get(name)),
            validity=_round(1 - flagged.get(name, 0) / rows) if rows and validated else None,
            violations=flagged.get(name, 0),
        )
        for name in names
    ]


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def standardisation(outputs: RunOutputs) -> Standardisation | None:
    changes = outputs.table("changes")
    if changes is None:
        return None
    has_error = "error" in outputs.schemas["changes"].names()
    is_error = pl.col("error").is_not_null() if has_error else pl.lit(False)
    per_step_query = (
        changes.group_by("step")
        .agg(
            (~is_error).sum().alias("changed"),
            is_error.sum().alias("errors"),
            pl.col("column").unique().sort().head(20).alias("columns"),
        )
        .sort(["changed", "step"], descending=[True, False])
    )
    totals_query = changes.select(
        (~is_error).sum().alias("changed"),
        is_error.sum().alias("errors"),
        pl.col("record_id").filter(~is_error).n_unique().alias("records"),
    )
    per_step, totals = pl.collect_all([per_step_query, totals_query])
    steps = [
        StepChanges(
            str(r["step"]),
            int(r["changed"]),
            int(r["errors"]),
            list(r["columns"]),
            cosmetic=str(r["step"]) in COSMETIC_STEPS,
        )
        for r in per_step.iter_rows(named=True)
    ]
    return Standardisation(
        values_changed=int(totals["changed"][0]),
        records_changed=int(totals["records"][0]),
        errors=int(totals["errors"][0]),
        # what changed the content leads; reformatting (a date written another way) follows
        steps=sorted(steps, key=lambda s: s.cosmetic),
    )
