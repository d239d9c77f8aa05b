"""unique: no two rows share a value (or a combination of `columns:`); every row of a duplicate
group is reported, so a steward sees all the records involved."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    ColumnCheckSpec,
    Need,
    checks,
    column_needs,
    present,
    row_violations,
)


class UniqueCheck(ColumnCheckSpec):
    type: Literal["unique"] = "unique"
    columns: list[str] | None = Field(
        None, min_length=1, description="Composite key: the combination must be unique"
    )
    case_sensitive: bool = Field(True, description="false: compare trimmed, lower-cased values")


def _key_columns(spec: UniqueCheck, ctx: CheckContext) -> list[str]:
    if spec.columns:
        return list(spec.columns)
    column = spec.column or ctx.column
    return [column] if column else []


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, UniqueCheck)
    if spec.columns:
        return [Need(f"columns[{i}]", c) for i, c in enumerate(spec.columns)]
    return column_needs(spec, ctx)


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, UniqueCheck)
    columns = _key_columns(spec, ctx)
    keys = [pl.col(c).cast(pl.String) for c in columns]
    if not spec.case_sensitive:
        keys = [k.str.strip_chars().str.to_lowercase() for k in keys]
    complete = pl.all_horizontal([present(c) for c in columns])
    group_size = pl.len().over(keys)
    shown = pl.col(columns[0]) if len(columns) == 1 else pl.concat_str(keys, separator=" | ")
    message = pl.format("duplicate: {} rows share this value", group_size)
    return row_violations(
        frame,
        ctx,
        "unique",
        spec.severity,
        complete & (group_size > 1),
        spec.message or message,
        value=shown,
        column=", ".join(columns),
    )


checks.add("unique", CheckType("unique", UniqueCheck, _run, _needs, scope="rows"))
