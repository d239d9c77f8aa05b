"""The check framework: a spec per check type, a registry, and violations as data.

Every check returns rows of VIOLATIONS_SCHEMA; reports are built from that frame, never from
exceptions raised row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import polars as pl
from pydantic import AliasChoices, Field, field_validator

from crmclean.core.checks.safe_sql import UnsafeSql, allowed_function_names, canonical_sql
from crmclean.core.contracts import RECORD_ID, VIOLATIONS_SCHEMA
from crmclean.core.registry import Registry
from crmclean.core.spec import Spec
from crmclean.core.standardise.base import DistinctCache

Severity = Literal["error", "warn", "info"]
Scope = Literal["values", "rows", "dataset"]
Stage = Literal["raw", "standardised"]  # which values a check reads: as read, or as cleaned


def parse_sql(text: str) -> pl.Expr:
    """A SQL row condition as a polars expression; never Python eval, never a file or a host.

    polars parses only the SQL regenerated from a tree that safe_sql checked (columns, values,
    operators and allow-listed scalar functions), never the rule file's text itself.
    """
    try:
        checked = canonical_sql(text)
    except UnsafeSql as exc:
        raise ValueError(
            f"{exc} (allowed functions: {', '.join(allowed_function_names())})"
        ) from None
    try:
        return pl.sql_expr(checked)
    except Exception as exc:  # polars raises several SQL error types; all mean "does not parse"
        raise ValueError(f"{text!r} is not a valid SQL expression: {_first_line(exc)}") from None


def sql_columns(text: str) -> list[str]:
    """Column names a SQL expression reads."""
    return list(dict.fromkeys(parse_sql(text).meta.root_names()))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class CheckSpec(Spec):
    """Fields every check shares."""

    type: str
    id: str | None = Field(None, description="Rule id shown in reports; defaults to column.type")
    severity: Severity = "error"
    threshold: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of checked rows allowed to violate (0.01 = 1%)"
    )
    when: str | None = Field(
        None,
        validation_alias=AliasChoices("when", "where"),
        description="SQL filter (alias `where`): only rows where it holds are checked",
    )
    message: str | None = None
    description: str | None = None
    on: Stage = Field(
        "raw",
        description="Values `validate` checks: as read (raw) or after the rule file's"
        " standardise steps (standardised); `run` checks standardised values always",
    )

    @field_validator("on", mode="before")
    @classmethod
    def _spelling(cls, value: object) -> object:
        return "standardised" if value == "standardized" else value

    @field_validator("threshold", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100.0
            except ValueError:
                raise ValueError(f"threshold {value!r} is not a number or a percentage") from None
        return value

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_sql(value)
        return value


class ColumnCheckSpec(CheckSpec):
    """A check of one column: the column it is declared under, or `column:` at dataset level."""

    column: str | None = Field(None, description="Column to check (implied under columns:)")


@dataclass(frozen=True)
class CheckContext:
    """What a check needs besides its spec and the frame; built by the validation core."""

    rule_id: str
    column: str | None = None  # the column the check is declared under, if any
    country_column: str | None = None
    default_region: str = "DE"
    date_order: str = "dmy"
    reference: Mapping[str, Sequence[str]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    scope: str | None = None  # the rule's `on:` and `when:` (values and rows), in every memo key
    # Results several checks of one run share (parsed timestamps); owned by the run.
    memo: dict[object, object] = field(default_factory=dict, compare=False)
    # the batched validate's slow answers for distinct values, kept across batches
    cache: DistinctCache | None = field(default=None, compare=False)


class Need(NamedTuple):
    """A column a check reads, and the spec field naming it (None: the column it sits under).

    `at` points elsewhere in the rule file when a dataset setting names the column.
    """

    field: str | None
    column: str
    at: tuple[str | int, ...] | None = None


def country_need(ctx: CheckContext) -> list[Need]:
    """The dataset's country column, when a check reads it per row."""
    if ctx.country_column is None:
        return []
    return [Need(None, ctx.country_column, ("dataset", "country_column"))]


@dataclass(frozen=True)
class CheckType:
    name: str
    spec: type[CheckSpec]
    run: Callable[[CheckSpec, pl.DataFrame, CheckContext], pl.DataFrame]
    needs: Callable[[CheckSpec, CheckContext], list[Need]]
    # what "checked rows" counts: present values of the column, all rows, or the dataset once
    scope: Scope = "values"


checks: Registry[CheckType] = Registry("check type")


def declared_column(spec: CheckSpec) -> str | None:
    """The column a check names itself (`target_column` where `column` means something else)."""
    fields = type(spec).model_fields
    name = "target_column" if "target_column" in fields else "column"
    value = getattr(spec, name, None)
    return value if isinstance(value, str) else None


def target(spec: CheckSpec, ctx: CheckContext) -> str | None:
    """The column a column check looks at."""
    return declared_column(spec) or ctx.column


def column_needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    """Needs of a one-column check; an empty column name is reported by the validation core."""
    own = getattr(spec, "column", None)
    if own:
        return [Need("column", own)]
    return [Need(None, ctx.column)] if ctx.column else []


def present(column: str) -> pl.Expr:
    """True where the column holds a value (not null, not blank)."""
    value = pl.col(column)
    return value.is_not_null() & (value.cast(pl.String).str.strip_chars() != "")


def map_unique(
    values: pl.Series,
    fn: Callable[[pl.Series], pl.Series],
    cache: DistinctCache | None = None,
    key: tuple[object, ...] = (),
) -> pl.Series:
    """Apply a slow function once per distinct value and spread the result back to every row;
    with a cache, once per distinct value across the batches of a run (`key` names `fn` and
    the settings its answers depend on)."""

    def compute(distinct: pl.DataFrame) -> pl.DataFrame:
        return distinct.with_columns(fn(distinct.get_column("key")).alias("out"))

    distinct = values.drop_nulls().unique().to_frame("key")
    if cache is None:
        keys = compute(distinct)
    else:
        keys = cache.answers(("check", *key), distinct, compute)[0]
    joined = pl.DataFrame({"key": values}).join(keys, on="key", how="left", maintain_order="left")
    return joined.get_column("out").alias(values.name)


def empty_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATIONS_SCHEMA)


def row_violations(
    frame: pl.DataFrame,
    ctx: CheckContext,
    check: str,
    severity: str,
    failed: pl.Expr,
    message: str | pl.Expr,
    value: pl.Expr | None = None,
    column: str | None = None,
) -> pl.DataFrame:
    """Rows where `failed` is true, shaped as violations."""
    column = column if column is not None else ctx.column
    value_expr = value if value is not None else (pl.col(column) if column else pl.lit(None))
    message_expr = pl.lit(message) if isinstance(message, str) else message
    return frame.filter(failed.fill_null(False)).select(
        pl.lit(ctx.rule_id, dtype=pl.String).alias("rule_id"),
        pl.lit(check, dtype=pl.String).alias("check"),
        pl.lit(column, dtype=pl.String).alias("column"),
        pl.col(RECORD_ID).cast(pl.String).alias("record_id"),
        value_expr.cast(pl.String).alias("value"),
        message_expr.cast(pl.String).alias("message"),
        pl.lit(severity, dtype=pl.String).alias("severity"),
    )


def dataset_violation(
    ctx: CheckContext,
    check: str,
    severity: str,
    message: str,
    value: str | None = None,
    column: str | None = None,
) -> pl.DataFrame:
    """One violation about the dataset as a whole (record_id null)."""
    row = {
        "rule_id": ctx.rule_id,
        "check": check,
        "column": column or ctx.column,
        "record_id": None,
        "value": value,
        "message": message,
        "severity": severity,
    }
    return pl.DataFrame([row], schema=VIOLATIONS_SCHEMA)
