"""freshness: the newest timestamp in a column is at most `max_age` old (e.g. 30d, 12h, 2w)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
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
    dataset_violation,
    empty_violations,
    target,
)
from crmclean.core.checks.date_valid import default_formats, naive_utc, parsed_column

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")


def parse_age(text: str) -> timedelta:
    match = _AGE.match(text)
    if not match:
        raise ValueError(f"max_age {text!r} is not a duration like 30d, 12h, 2w or 90m")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


class FreshnessCheck(ColumnCheckSpec):
    type: Literal["freshness"] = "freshness"
    max_age: str = Field(description="Largest allowed age of the newest value: 30d, 12h, 2w, 90m")
    formats: list[str] | None = Field(None, min_length=1, description="as for date_valid")

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}d"  # a bare number means days
        if isinstance(value, str):
            parse_age(value)
        return value


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, FreshnessCheck)
    column = target(spec, ctx)
    assert column is not None
    formats = list(spec.formats) if spec.formats else default_formats(ctx.date_order)
    newest = parsed_column(frame, column, formats, ctx).max()
    if not isinstance(newest, datetime):
        problem, shown = "no readable timestamps", None
    else:
        age = naive_utc(ctx.now) - newest
        if age <= parse_age(spec.max_age):
            return empty_violations()
        problem, shown = f"newest value is {age.days} days old (max {spec.max_age})", str(newest)
    return dataset_violation(
        ctx, "freshness", spec.severity, spec.message or problem, value=shown, column=column
    )


checks.add("freshness", CheckType("freshness", FreshnessCheck, _run, column_needs, scope="dataset"))
