"""Run a rule file's checks over a frame: per-rule results, the violations frame and a score.

Pure: the shell reads the data and reference files, calls setup_problems() to turn rule-file
mistakes into located errors before any data is touched, then validate(). Checks read the values
as given, or with `on: standardised` the frame clean() makes of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from crmclean.core import cleaning
from crmclean.core.checks import CheckContext, checks
from crmclean.core.checks.allowed_values import AllowedValuesCheck, reference_key
from crmclean.core.checks.base import Stage, parse_sql, present, sql_columns, target
from crmclean.core.contracts import RECORD_ID, VIOLATIONS_SCHEMA
from crmclean.core.masking import redact_engine_message
from crmclean.core.problems import (
    RuleSetupError,
    SetupProblem,
    engine_reason,
    missing_column_hint,
)
from crmclean.core.rules.check_plan import Environment, PlannedRule, YamlPath, context, plan

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile

Problem = SetupProblem  # (yaml path, problem, hint)
Status = Literal["pass", "warn", "fail"]
FailOn = Literal["error", "warn"]

# Score weights: an error-severity rule counts three times a warning; info rules are not scored.
SCORE_WEIGHTS = {"error": 3.0, "warn": 1.0, "info": 0.0}


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    check: str
    column: str | None
    severity: str
    checked: int  # rows (or values, or 1 for the dataset) the rule looked at
    violations: int
    share: float  # violations / checked
    threshold: float
    status: Status
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ValidationResult:
    results: list[RuleResult]
    violations: pl.DataFrame  # VIOLATIONS_SCHEMA, every violating row of every rule
    rows: int
    score: float  # 0..100, see score()

    def counts(self) -> dict[str, int]:
        statuses = [r.status for r in self.results]
        return {s: statuses.count(s) for s in ("pass", "warn", "fail")}

    def exit_code(self, fail_on: FailOn = "error") -> int:
        """1 when an error rule failed its threshold (or any warning, with fail_on="warn")."""
        failing = {"fail", "warn"} if fail_on == "warn" else {"fail"}
        return 1 if any(r.status in failing for r in self.results) else 0


def reference_requests(rules: RuleFile) -> list[tuple[YamlPath, str, str, str]]:
    """(yaml path, file, column, key) for every values_from the shell must read."""
    out = []
    for rule in plan(rules):
        spec = rule.spec
        if isinstance(spec, AllowedValuesCheck) and spec.values_from and spec.column:
            key = reference_key(spec.values_from, spec.column)
            out.append(((*rule.path, "values_from"), spec.values_from, spec.column, key))
    return out


Columns = Iterable[str] | Mapping[str, pl.DataType]


def setup_problems(
    rules: RuleFile, columns: Columns, standardised: Columns | None = None
) -> list[Problem]:
    """Every way the rule file does not fit data with these columns, all at once.

    Checks `on: standardised` are held against `standardised`, the columns of the cleaned frame
    (found by cleaning no rows when not given), and need the standardise steps to fit too.
    """
    schema = _schema(columns)
    planned = plan(rules)
    problems: list[Problem] = []
    schemas: dict[Stage, dict[str, pl.DataType]] = {"raw": schema}
    if standardised is not None:
        schemas["standardised"] = _schema(standardised)
    elif any(rule.spec.on == "standardised" for rule in planned):
        schemas["standardised"], problems = standardised_schema(rules, schema)
    env = Environment()
    seen_ids: dict[str, YamlPath] = {}
    for rule in planned:
        if rule.explicit_id and rule.rule_id in seen_ids:
            problems.append(
                Problem(
                    (*rule.path, "id"), f"rule id {rule.rule_id!r} is used twice", "ids are unique"
                )
            )
        seen_ids.setdefault(rule.rule_id, rule.path)
        ctx = context(rules, rule, env)
        problems.extend(_rule_problems(rule, ctx, schemas[rule.spec.on]))
    return list(dict.fromkeys(problems))  # a shared setting (country_column) is named once


def standardised_schema(
    rules: RuleFile, schema: Mapping[str, pl.DataType]
) -> tuple[dict[str, pl.DataType], list[Problem]]:
    """The columns clean() gives data of this schema (the columns steps fill and `derive:`
    adds), and the problems that keep the standardise steps from running on it."""
    found = cleaning.setup_problems(rules, list(schema))
    if found:
        guess = {**schema, **{name: pl.String() for name in rules.derive}}
        return guess, list(found)
    return dict(cleaning.clean(pl.DataFrame(schema=dict(schema)), rules).frame.schema), []


def _schema(columns: Columns) -> dict[str, pl.DataType]:
    if isinstance(columns, Mapping):
        return dict(columns)
    return {name: pl.String() for name in columns}


def _rule_problems(
    rule: PlannedRule, ctx: CheckContext, schema: Mapping[str, pl.DataType]
) -> list[Problem]:
    check = checks.get(rule.check)
    problems: list[Problem] = []
    field = _column_field(rule)
    if field and target(rule.spec, ctx) is None and not getattr(rule.spec, "columns", None):
        problems.append(Problem(rule.path, f"{rule.check} in the dataset-wide list needs {field}:"))
    for need in check.needs(rule.spec, ctx):
        if need.column not in schema:
            where = need.at or _field_path(rule, need.field)
            problems.append(Problem(where, _missing(need.column), _close(need.column, schema)))
    if rule.spec.when is not None:
        for name in sql_columns(rule.spec.when):
            if name not in schema:
                problems.append(Problem((*rule.path, "when"), _missing(name), _close(name, schema)))
    if not problems:
        problems.extend(_dry_run(rule, schema))
    return problems


def _column_field(rule: PlannedRule) -> str | None:
    """The spec field that names the checked column, if the check has one."""
    fields = type(rule.spec).model_fields
    for name in ("target_column", "column"):
        if name in fields:
            return name
    return None


def _field_path(rule: PlannedRule, field: str | None) -> YamlPath:
    if field is None:
        return ("columns", rule.column) if rule.column else rule.path
    parts: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", field):
        parts.append(name)
        if index:
            parts.append(int(index))
    return (*rule.path, *parts)


def _missing(column: str) -> str:
    return f"column {column!r} is not in the data"


def _close(column: str, schema: Mapping[str, pl.DataType]) -> str:
    return missing_column_hint(column, list(schema))


def _dry_run(rule: PlannedRule, schema: Mapping[str, pl.DataType]) -> list[Problem]:
    """SQL that parses may still not type-check against the data (e.g. a string < a number)."""
    empty = pl.DataFrame(schema=dict(schema))
    sources = [("when", rule.spec.when)]
    if rule.check == "expression":
        sources.append(("expr", getattr(rule.spec, "expr", None)))
    problems: list[Problem] = []
    for key, text in sources:
        if text is None:
            continue
        try:
            empty.lazy().filter(parse_sql(text)).collect()
        except Exception as exc:  # polars reports type errors under several classes
            problems.append(
                Problem((*rule.path, key), f"{text!r} cannot run: {engine_reason(exc)}")
            )
    return problems


def normalise_nulls(frame: pl.DataFrame, null_tokens: Sequence[str]) -> pl.DataFrame:
    """Placeholders such as 'n/a' count as missing for every check."""
    tokens = pl.Series([t.strip().lower() for t in null_tokens], dtype=pl.String).implode()
    text_columns = [n for n, t in frame.schema.items() if t == pl.String and n != RECORD_ID]
    return frame.with_columns(
        pl.when(pl.col(n).str.strip_chars().str.to_lowercase().is_in(tokens))
        .then(None)
        .otherwise(pl.col(n))
        .alias(n)
        for n in text_columns
    )


def validate(
    frame: pl.DataFrame,
    rules: RuleFile,
    *,
    reference: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
    standardised: pl.DataFrame | None = None,
) -> ValidationResult:
    """Run every check: on `frame`, or with `on: standardised` on `standardised`, the frame
    `clean(frame, rules)` gives; computed here, once, when a check needs it and it is not given.
    """
    planned = plan(rules)
    cleaned_schema = standardised.schema if standardised is not None else None
    problems = setup_problems(rules, frame.schema, cleaned_schema)
    if problems:
        raise RuleSetupError(problems)
    env = Environment(reference or {}, now or datetime.now(UTC))
    tokens = rules.dataset.null_tokens
    data: dict[Stage, pl.DataFrame] = {"raw": normalise_nulls(frame, tokens)}
    if any(rule.spec.on == "standardised" for rule in planned):
        if standardised is None:
            standardised = cleaning.clean(frame, rules).frame
        same = standardised is frame
        data["standardised"] = data["raw"] if same else normalise_nulls(standardised, tokens)
    results: list[RuleResult] = []
    found: list[pl.DataFrame] = []
    for rule in planned:
        ctx = context(rules, rule, env)
        violations, checked = rule_violations(rule, ctx, data[rule.spec.on])
        results.append(rule_result(rule, ctx, violations, checked))
        found.append(violations)
    violations = pl.concat(found) if found else pl.DataFrame(schema=VIOLATIONS_SCHEMA)
    return ValidationResult(results, violations, frame.height, score(results))


def _sql_failure(rule: PlannedRule, exc: Exception) -> Problem:
    key = "expr" if rule.check == "expression" else "when"
    reason = redact_engine_message(engine_reason(exc))
    return Problem(
        (*rule.path, key), f"fails on the data: {reason}", "TRY_CAST returns null instead"
    )


def rule_violations(
    rule: PlannedRule, ctx: CheckContext, data: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    """One rule's violations on `data` and how many rows (values, or 1 for the dataset) it
    checked; SQL in the rule file that fails on the values is a setup problem at its path."""
    try:
        return _checked_rule(rule, ctx, data)
    except pl.exceptions.PolarsError as exc:
        # Only SQL written in the rule file can fail on values (a strict CAST of "abc").
        if rule.spec.when is None and rule.check != "expression":
            raise
        raise RuleSetupError([_sql_failure(rule, exc)]) from None


def scoped(rule: PlannedRule, data: pl.DataFrame) -> pl.DataFrame:
    """The rows of `data` the rule's `when:` selects."""
    when = rule.spec.when
    return data.filter(parse_sql(when).fill_null(False)) if when else data


def _checked_rule(
    rule: PlannedRule, ctx: CheckContext, data: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    check = checks.get(rule.check)
    spec = rule.spec
    rows = scoped(rule, data)
    violations = check.run(spec, rows, ctx).cast(VIOLATIONS_SCHEMA)  # type: ignore[arg-type]
    return violations, checked_rows(rule, ctx, rows)


def checked_rows(rule: PlannedRule, ctx: CheckContext, rows: pl.DataFrame) -> int:
    """How many of `rows` (the rule's scoped rows) the rule checked: values present in its
    column, every row, or 1 for a data-set-level check."""
    check = checks.get(rule.check)
    column = target(rule.spec, ctx)
    if check.scope == "dataset":
        return 1
    if check.scope == "values" and column is not None:
        return int(rows.select(present(column).sum()).item())
    return rows.height


def rule_result(
    rule: PlannedRule, ctx: CheckContext, violations: pl.DataFrame, checked: int
) -> RuleResult:
    """The rule's line in the results: its violations against what it checked."""
    spec = rule.spec
    count = violations.height
    share = count / checked if checked else 0.0
    return RuleResult(
        rule_id=rule.rule_id,
        check=rule.check,
        column=(
            violations.get_column("column")[0] if count else _shown_column(rule, target(spec, ctx))
        ),
        severity=spec.severity,
        checked=checked,
        violations=count,
        share=share,
        threshold=spec.threshold,
        status=_status(spec.severity, share, spec.threshold, count),
        description=spec.description,
    )


def _shown_column(rule: PlannedRule, column: str | None) -> str | None:
    columns = getattr(rule.spec, "columns", None)
    return ", ".join(columns) if columns else column


def _status(severity: str, share: float, threshold: float, count: int) -> Status:
    if count == 0 or share <= threshold or severity == "info":
        return "pass"
    return "fail" if severity == "error" else "warn"


def score(results: Sequence[RuleResult]) -> float:
    """100 x the weighted mean of (1 - share) over rules that checked something.

    Weights: error 3, warn 1, info 0. A rule with 2% violating rows contributes 98 points of its
    weight, so the score says how clean the data is, not only whether thresholds held.
    """
    weighted = [(SCORE_WEIGHTS[r.severity], r.share) for r in results if r.checked]
    total = sum(w for w, _ in weighted)
    if total == 0:
        return 100.0
    return round(100.0 * sum(w * (1.0 - min(s, 1.0)) for w, s in weighted) / total, 1)


# Checks whose verdict on a row reads that row alone and not the clock: an incremental run
# carries their violations of unchanged rows over. Every other check (unique, row_count,
# freshness, not_in_future, expression) runs again on the whole of today's data.
ROW_LOCAL_CHECKS = frozenset(
    {
        "allowed_values",
        "completeness",
        "country_valid",
        "date_valid",
        "email_valid",
        "length",
        "not_null",
        "pattern",
        "phone_valid",
        "postcode_valid",
        "range",
    }
)


def validate_changed(
    frame: pl.DataFrame,
    changed: pl.Series,
    carried: pl.DataFrame,
    rules: RuleFile,
    *,
    reference: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """What `validate(frame, rules, standardised=frame)` gives, when the row-local checks ran
    before on every row but `changed`: their violations of the other rows come from `carried`
    (the previous run's, in VIOLATIONS_SCHEMA). Figures and data-set-level checks read all of
    `frame`, a cleaned frame."""
    planned = plan(rules)
    problems = setup_problems(rules, frame.schema, frame.schema)
    if problems:
        raise RuleSetupError(problems)
    tokens = rules.dataset.null_tokens
    whole = normalise_nulls(frame, tokens)
    is_changed = pl.col(RECORD_ID).is_in(changed.implode())
    delta = whole.filter(is_changed)
    positions = frame.select(
        RECORD_ID, pl.int_range(frame.height, dtype=pl.Int64).alias("__position")
    )
    # each carried row's position today, joined once (deleted rows: gone); the changed rows'
    # positions are the few the fresh violations need
    kept = carried.join(delta.select(RECORD_ID), on=RECORD_ID, how="anti").cast(
        VIOLATIONS_SCHEMA  # type: ignore[arg-type]
    )
    kept = kept.join(positions, on=RECORD_ID, how="inner", maintain_order="left")
    delta_positions = positions.join(delta.select(RECORD_ID), on=RECORD_ID, how="semi")
    clock = now or datetime.now(UTC)
    env_whole, env_delta = Environment(reference or {}, clock), Environment(reference or {}, clock)
    results: list[RuleResult] = []
    found: list[pl.DataFrame] = []
    for rule in planned:
        ctx = context(rules, rule, env_whole)
        if rule.check not in ROW_LOCAL_CHECKS:
            violations, checked = rule_violations(rule, ctx, whole)
        else:
            fresh, _ = rule_violations(rule, context(rules, rule, env_delta), delta)
            fresh = fresh.cast(VIOLATIONS_SCHEMA).join(  # type: ignore[arg-type]
                delta_positions, on=RECORD_ID, how="left", maintain_order="left"
            )
            violations = (
                pl.concat([kept.filter(pl.col("rule_id") == rule.rule_id), fresh])
                .sort("__position", maintain_order=True, nulls_last=True)
                .drop("__position")
            )
            checked = checked_rows(rule, ctx, scoped(rule, whole))
        results.append(rule_result(rule, ctx, violations, checked))
        found.append(violations)
    violations = pl.concat(found) if found else pl.DataFrame(schema=VIOLATIONS_SCHEMA)
    return ValidationResult(results, violations, frame.height, score(results))
