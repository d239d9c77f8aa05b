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
from crmclean.core.problems import engine_reason


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
        reason = compile_error(value)
        if reason is not None:
            raise ValueError(f"regex {value!r} is refused by the engine: {reason}")
        return value


def compile_error(pattern: str) -> str | None:
    """Why polars' regex engine refuses `pattern` (e.g. over its size limit), or None."""
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except Exception as exc:  # the engine wraps its refusal in a ComputeError
        # a parse error spans lines (pattern, caret, `error: why`): keep the line saying why
        why = [line.strip() for line in str(exc).splitlines() if line.strip().startswith("error:")]
        if why:
            return why[0].removeprefix("error: ")
        return engine_reason(exc).removeprefix("regex error: ")
    return None


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
