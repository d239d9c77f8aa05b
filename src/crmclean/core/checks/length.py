"""length: the number of characters (after trimming) lies within min..max."""

from __future__ import annotations

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


class LengthCheck(ColumnCheckSpec):
    type: Literal["length"] = "length"
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("length needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, LengthCheck)
    column = target(spec, ctx)
    assert column is not None
    length = pl.col(column).cast(pl.String).str.strip_chars().str.len_chars()
    too_short = length < spec.min if spec.min is not None else pl.lit(False)
    too_long = length > spec.max if spec.max is not None else pl.lit(False)
    message = (
        pl.when(too_short)
        .then(pl.format("{} characters, fewer than {}", length, pl.lit(spec.min)))
        .otherwise(pl.format("{} characters, more than {}", length, pl.lit(spec.max)))
    )
    return row_violations(
        frame,
        ctx,
        "length",
        spec.severity,
        present(column) & (too_short | too_long),
        spec.message or message,
        column=column,
    )


checks.add("length", CheckType("length", LengthCheck, _run, column_needs))
