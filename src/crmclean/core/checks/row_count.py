"""row_count: the dataset (or the rows `when:` selects) has between min and max rows."""

from __future__ import annotations

from typing import Literal, Self

import polars as pl
from pydantic import Field, model_validator

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    Need,
    checks,
    dataset_violation,
    empty_violations,
)


class RowCountCheck(CheckSpec):
    type: Literal["row_count"] = "row_count"
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("row_count needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    return []


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, RowCountCheck)
    rows = frame.height
    problem = None
    if spec.min is not None and rows < spec.min:
        problem = f"{rows} rows, fewer than {spec.min}"
    elif spec.max is not None and rows > spec.max:
        problem = f"{rows} rows, more than {spec.max}"
    if problem is None:
        return empty_violations()
    return dataset_violation(
        ctx, "row_count", spec.severity, spec.message or problem, value=str(rows)
    )


checks.add("row_count", CheckType("row_count", RowCountCheck, _run, _needs, scope="dataset"))
