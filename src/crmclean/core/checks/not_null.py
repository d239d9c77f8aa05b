"""not_null (alias required): the value must be present and not blank."""

from __future__ import annotations

from typing import Literal

import polars as pl

from crmclean.core.checks.base import CheckContext, CheckSpec, CheckType, checks, row_violations


class NotNullCheck(CheckSpec):
    type: Literal["not_null"] = "not_null"
    column: str | None = None


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[str]:
    assert isinstance(spec, NotNullCheck)
    column = spec.column or ctx.column
    return [column] if column else []


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, NotNullCheck)
    column = spec.column or ctx.column
    assert column is not None
    value = pl.col(column)
    failed = value.is_null() | (value.cast(pl.String).str.strip_chars() == "")
    return row_violations(
        frame,
        ctx,
        "not_null",
        spec.severity,
        failed,
        spec.message or "missing value",
        column=column,
    )


checks.add("not_null", CheckType("not_null", NotNullCheck, _run, _needs), aliases=["required"])
