"""not_null (alias required): the value must be present and not blank."""

from __future__ import annotations

from typing import Literal

import polars as pl

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    ColumnCheckSpec,
    checks,
    column_needs,
    present,
    row_violations,
    target,
)


class NotNullCheck(ColumnCheckSpec):
    type: Literal["not_null"] = "not_null"


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    column = target(spec, ctx)
    assert column is not None
    return row_violations(
        frame,
        ctx,
        "not_null",
        spec.severity,
        ~present(column),
        spec.message or "missing value",
        column=column,
    )


checks.add(
    "not_null",
    CheckType("not_null", NotNullCheck, _run, column_needs, scope="rows"),
    aliases=["required"],
)
