"""not_in_future: dates must not lie after the run's clock (ctx.now); unparsable values are left
to date_valid so one bad value is reported once."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    ColumnCheckSpec,
    checks,
    column_needs,
    row_violations,
    target,
)
from crmclean.core.checks.date_valid import default_formats, naive_utc, parsed_column


class NotInFutureCheck(ColumnCheckSpec):
    type: Literal["not_in_future"] = "not_in_future"
    formats: list[str] | None = Field(None, min_length=1, description="as for date_valid")


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, NotInFutureCheck)
    column = target(spec, ctx)
    assert column is not None
    formats = list(spec.formats) if spec.formats else default_formats(ctx.date_order)
    parsed = parsed_column(frame, column, formats, ctx)
    now = naive_utc(ctx.now)
    return row_violations(
        frame.with_columns(parsed.alias("__parsed")),
        ctx,
        "not_in_future",
        spec.severity,
        pl.col("__parsed") > pl.lit(now),
        spec.message or f"in the future (after {now:%Y-%m-%d %H:%M})",
        column=column,
    )


checks.add("not_in_future", CheckType("not_in_future", NotInFutureCheck, _run, column_needs))
