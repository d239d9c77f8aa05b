"""Text steps: trim and friends."""

from __future__ import annotations

from typing import Literal

import polars as pl

from crmclean.core.standardise.base import (
    Standardiser,
    StepContext,
    StepResult,
    StepSpec,
    standardisers,
)


class TrimStep(StepSpec):
    type: Literal["trim"] = "trim"


def _trim(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    return StepResult(frame.get_column(ctx.column).cast(pl.String).str.strip_chars())


standardisers.add("trim", Standardiser("trim", TrimStep, _trim), aliases=["strip"])
