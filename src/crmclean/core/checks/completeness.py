"""completeness: each record fills at least `min` of the listed columns (a share, or "80%")."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    Need,
    checks,
    present,
    row_violations,
)


class CompletenessCheck(CheckSpec):
    type: Literal["completeness"] = "completeness"
    columns: list[str] = Field(min_length=1, description="Columns a complete record fills")
    min: float = Field(ge=0.0, le=1.0, description="Smallest share of filled columns (0.8 or 80%)")

    @field_validator("min", mode="before")
    @classmethod
    def _min_percent(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100.0
            except ValueError:
                raise ValueError(f"min {value!r} is not a number or a percentage") from None
        return value


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, CompletenessCheck)
    return [Need(f"columns[{i}]", c) for i, c in enumerate(spec.columns)]


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, CompletenessCheck)
    filled = pl.sum_horizontal([present(c).cast(pl.Int32) for c in spec.columns])
    share = filled / len(spec.columns)
    message = pl.format("{} of {} fields filled", filled, pl.lit(len(spec.columns)))
    return row_violations(
        frame,
        ctx,
        "completeness",
        spec.severity,
        share < spec.min,
        spec.message or message,
        value=(share * 100).round(0).cast(pl.Int64).cast(pl.String) + "%",
        column=", ".join(spec.columns),
    )


checks.add("completeness", CheckType("completeness", CompletenessCheck, _run, _needs, scope="rows"))
