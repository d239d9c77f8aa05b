"""allowed_values (alias in_set): the value is one of `values:` or of a column in a reference CSV.

The CSV is read by the shell (`values_from:` + `column:` of that CSV) and handed in as
CheckContext.reference, keyed by reference_key(); the core never opens files.
"""

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
    present,
    row_violations,
)


def reference_key(path: str, column: str) -> str:
    return f"{path}#{column}"


class AllowedValuesCheck(CheckSpec):
    type: Literal["allowed_values"] = "allowed_values"
    values: list[str | int | float | bool] | None = Field(None, description="The allowed values")
    values_from: str | None = Field(
        None, description="CSV file (relative to the rule file) holding the allowed values"
    )
    column: str | None = Field(None, description="Column of the values_from CSV")
    target_column: str | None = Field(
        None, description="Column to check, for a dataset-level check"
    )
    case_sensitive: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.values is None) == (self.values_from is None):
            raise ValueError("allowed_values needs exactly one of values or values_from")
        if self.column is not None and self.values_from is None:
            raise ValueError("column names a column of the values_from CSV; add values_from")
        if self.values_from is not None and self.column is None:
            raise ValueError("values_from needs column: (the CSV column holding the values)")
        return self


def _target(spec: AllowedValuesCheck, ctx: CheckContext) -> str | None:
    return spec.target_column or ctx.column


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, AllowedValuesCheck)
    if spec.target_column:
        return [Need("target_column", spec.target_column)]
    return [Need(None, ctx.column)] if ctx.column else []


def allowed(spec: AllowedValuesCheck, ctx: CheckContext) -> list[str]:
    if spec.values is not None:
        return [str(v).lower() if isinstance(v, bool) else str(v) for v in spec.values]
    assert spec.values_from is not None and spec.column is not None
    return [str(v) for v in ctx.reference.get(reference_key(spec.values_from, spec.column), [])]


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, AllowedValuesCheck)
    column = _target(spec, ctx)
    assert column is not None
    value = pl.col(column).cast(pl.String)
    options = pl.Series(allowed(spec, ctx), dtype=pl.String)
    if not spec.case_sensitive:
        value = value.str.strip_chars().str.to_lowercase()
        options = options.str.strip_chars().str.to_lowercase()
    if spec.values_from is not None:  # a file's values are never copied into messages
        shown = f"{options.len():,} values of {spec.values_from}, column {spec.column}"
    else:
        shown = ", ".join(options.head(5).to_list()) + (", ..." if options.len() > 5 else "")
    return row_violations(
        frame,
        ctx,
        "allowed_values",
        spec.severity,
        present(column) & ~value.is_in(options.implode()),
        spec.message or f"not one of the allowed values ({shown})",
        column=column,
    )


checks.add(
    "allowed_values",
    CheckType("allowed_values", AllowedValuesCheck, _run, _needs),
    aliases=["in_set", "allowed"],
)
