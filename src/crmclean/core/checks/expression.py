"""expression: a cross-field SQL condition every row must satisfy, e.g.
`created_at <= updated_at`. Parsed by polars' SQL front end; Python eval is never used.
A row where the condition is null (a column missing in that row) is not a violation.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import AliasChoices, Field, field_validator

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    Need,
    checks,
    parse_sql,
    row_violations,
    sql_columns,
)


class ExpressionCheck(CheckSpec):
    type: Literal["expression"] = "expression"
    expr: str = Field(
        validation_alias=AliasChoices("expr", "expression", "sql"),
        description="SQL boolean expression that must hold",
    )

    @field_validator("expr")
    @classmethod
    def _expr_parses(cls, value: str) -> str:
        parse_sql(value)
        return value


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, ExpressionCheck)
    return [Need("expr", c) for c in sql_columns(spec.expr)]


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, ExpressionCheck)
    holds = parse_sql(spec.expr)
    value = pl.col(ctx.column) if ctx.column else pl.lit(None, dtype=pl.String)
    return row_violations(
        frame,
        ctx,
        "expression",
        spec.severity,
        holds.not_(),
        spec.message or f"violates {spec.expr}",
        value=value,
        column=ctx.column,
    )


checks.add(
    "expression",
    CheckType("expression", ExpressionCheck, _run, _needs, scope="rows"),
    aliases=["sql", "rule"],
)
