"""pattern (alias regex): values must match a regular expression (whole value by default)."""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
from pydantic import Field, field_validator

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


class PatternCheck(ColumnCheckSpec):
    type: Literal["pattern"] = "pattern"
    pattern: str = Field(description="Regular expression (Rust regex syntax: no look-around)")
    full_match: bool = Field(True, description="false: the pattern may match anywhere")
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        # polars runs the regex, so its engine is the judge; Python's gives the clearer message
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"regex {value!r} does not compile: {exc}") from None
        try:
            pl.Series([""]).str.contains(value)
        except Exception as exc:  # polars wraps the Rust regex error in ComputeError
            reason = (str(exc).strip().splitlines() or ["invalid"])[-1].strip()
            raise ValueError(f"regex {value!r} is not supported: {reason}") from None
        return value


def regex_of(spec: PatternCheck) -> str:
    body = f"^(?:{spec.pattern})$" if spec.full_match else spec.pattern
    return f"(?i){body}" if spec.ignore_case else body


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, PatternCheck)
    column = target(spec, ctx)
    assert column is not None
    matches = pl.col(column).cast(pl.String).str.contains(regex_of(spec))
    return row_violations(
        frame,
        ctx,
        "pattern",
        spec.severity,
        present(column) & ~matches,
        spec.message or f"does not match pattern {spec.pattern}",
        column=column,
    )


checks.add("pattern", CheckType("pattern", PatternCheck, _run, column_needs), aliases=["regex"])
