"""The check framework: a spec per check type, a registry, and violations as data.

Every check returns rows of VIOLATIONS_SCHEMA; reports are built from that frame, never from
exceptions raised row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from crmclean.core.registry import Registry
from crmclean.core.spec import Spec

Severity = Literal["error", "warn", "info"]
RECORD_ID = "record_id"  # every loaded frame carries the stable record id as a string column

VIOLATIONS_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "check": pl.String(),
    "column": pl.String(),
    "record_id": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "severity": pl.String(),
}


class CheckSpec(Spec):
    """Fields every check shares."""

    type: str
    id: str | None = Field(None, description="Rule id shown in reports; defaults to column.type")
    severity: Severity = "error"
    threshold: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of checked rows allowed to violate (0.01 = 1%)"
    )
    when: str | None = Field(None, description="SQL filter: only rows where it holds are checked")
    message: str | None = None
    description: str | None = None

    @field_validator("threshold", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("%"):
            return float(value.strip()[:-1]) / 100.0
        return value


@dataclass(frozen=True)
class CheckContext:
    """What a check needs besides its spec and the frame; built by the pipeline."""

    rule_id: str
    column: str | None = None  # the column the check is declared under, if any
    country_column: str | None = None
    default_region: str = "DE"
    reference: Mapping[str, Sequence[str]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class CheckType:
    name: str
    spec: type[CheckSpec]
    run: Callable[[CheckSpec, pl.DataFrame, CheckContext], pl.DataFrame]
    needs: Callable[[CheckSpec, CheckContext], list[str]]


checks: Registry[CheckType] = Registry("check type")


def empty_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATIONS_SCHEMA)


def row_violations(
    frame: pl.DataFrame,
    ctx: CheckContext,
    check: str,
    severity: str,
    failed: pl.Expr,
    message: str | pl.Expr,
    value: pl.Expr | None = None,
    column: str | None = None,
) -> pl.DataFrame:
    """Rows where `failed` is true, shaped as violations."""
    column = column if column is not None else ctx.column
    value_expr = value if value is not None else (pl.col(column) if column else pl.lit(None))
    message_expr = pl.lit(message) if isinstance(message, str) else message
    return frame.filter(failed.fill_null(False)).select(
        pl.lit(ctx.rule_id).alias("rule_id"),
        pl.lit(check).alias("check"),
        pl.lit(column, dtype=pl.String).alias("column"),
        pl.col(RECORD_ID).cast(pl.String).alias("record_id"),
        value_expr.cast(pl.String).alias("value"),
        message_expr.cast(pl.String).alias("message"),
        pl.lit(severity).alias("severity"),
    )
