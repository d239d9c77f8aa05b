"""range: numbers or dates within min..max (inclusive by default)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self

import polars as pl
from pydantic import Field, model_validator

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
from crmclean.core.checks.date_valid import default_formats, parsed_column

Bound = float | date | None


class RangeCheck(ColumnCheckSpec):
    type: Literal["range"] = "range"
    min: Bound = Field(None, description="Lowest allowed number or date (YYYY-MM-DD)")
    max: Bound = Field(None, description="Highest allowed number or date")
    inclusive: bool = Field(True, description="false: the bounds themselves are out of range")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        bounds = [b for b in (self.min, self.max) if b is not None]
        if not bounds:
            raise ValueError("range needs min, max or both")
        if len({isinstance(b, date) for b in bounds}) > 1:
            raise ValueError("min and max must both be numbers or both be dates")
        if len(bounds) == 2 and bounds[0] > bounds[1]:  # type: ignore[operator]
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self

    @property
    def on_dates(self) -> bool:
        return isinstance(self.min, date) or isinstance(self.max, date)


def _as_datetime(bound: Bound) -> object:
    if isinstance(bound, datetime) or bound is None or not isinstance(bound, date):
        return bound
    return datetime(bound.year, bound.month, bound.day)


def _values(spec: RangeCheck, frame: pl.DataFrame, column: str, ctx: CheckContext) -> pl.Series:
    series = frame.get_column(column)
    if spec.on_dates:
        return parsed_column(frame, column, default_formats(ctx.date_order), ctx)
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    return series.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, RangeCheck)
    column = target(spec, ctx)
    assert column is not None
    value = pl.col("__value")
    low, high = _as_datetime(spec.min), _as_datetime(spec.max)
    below = pl.lit(False)
    above = pl.lit(False)
    if low is not None:
        below = value < pl.lit(low) if spec.inclusive else value <= pl.lit(low)
    if high is not None:
        above = value > pl.lit(high) if spec.inclusive else value >= pl.lit(high)
    # An unreadable date is date_valid's finding; range only judges the dates it can read.
    unreadable = pl.lit(False) if spec.on_dates else value.is_null()
    kind = "a date" if spec.on_dates else "a number"
    message = (
        pl.when(value.is_null())
        .then(pl.lit(f"not {kind}"))
        .when(below)
        .then(pl.lit(f"below the minimum {spec.min}"))
        .otherwise(pl.lit(f"above the maximum {spec.max}"))
    )
    work = frame.with_columns(_values(spec, frame, column, ctx).alias("__value"))
    return row_violations(
        work,
        ctx,
        "range",
        spec.severity,
        present(column) & (unreadable | below | above),
        spec.message or message,
        column=column,
    )


checks.add("range", CheckType("range", RangeCheck, _run, column_needs), aliases=["between"])
