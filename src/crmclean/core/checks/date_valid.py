"""date_valid (alias date): values must be dates in one of the accepted formats.

Also home of the date parser the other temporal checks share. Dates repeat a lot (birthdays,
import days), so parsing runs once per distinct value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    ColumnCheckSpec,
    checks,
    column_needs,
    map_unique,
    present,
    row_violations,
    target,
)
from crmclean.core.standardise.base import DistinctCache

ISO_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S%#z",
)
SLASH_FORMAT = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y", "ymd": "%Y/%m/%d"}


def default_formats(date_order: str) -> list[str]:
    """ISO dates and timestamps, dd.mm.yyyy, and the slash form the dataset's date order implies."""
    return [*ISO_FORMATS, "%d.%m.%Y", SLASH_FORMAT.get(date_order, "%d/%m/%Y")]


def _exclusive(formats: list[str]) -> bool:
    """True when no string fits two of the formats, so their order cannot change a result:
    the built-in ISO forms, dd.mm.yyyy and at most one slash form."""
    slashes = [f for f in formats if f in SLASH_FORMAT.values()]
    known = {*ISO_FORMATS, "%d.%m.%Y", *SLASH_FORMAT.values()}
    return len(slashes) <= 1 and set(formats) <= known


def _by_hits(values: pl.Series, formats: list[str], sample: int = 1_000) -> list[str]:
    """The formats ordered by how many of a sample they read, most first."""
    probe = values.head(sample).str.strip_chars()
    hits = [probe.str.to_datetime(f, strict=False).is_not_null().sum() for f in formats]
    return [f for _, f in sorted(zip(hits, formats, strict=True), key=lambda p: -p[0])]


def _parse_distinct(values: pl.Series, formats: list[str]) -> pl.Series:
    """Try the formats in order, each only on the values no earlier format could read."""
    if _exclusive(formats) and values.len() > 10_000:
        formats = _by_hits(values, formats)  # most values are then read by the first attempt
    out = pl.Series(values.name, [None] * values.len(), dtype=pl.Datetime("us"))
    todo = pl.DataFrame({"i": pl.int_range(values.len(), eager=True), "v": values})
    todo = todo.with_columns(pl.col("v").str.strip_chars()).drop_nulls("v")
    for fmt in formats:
        if todo.is_empty():
            break
        parsed = todo.get_column("v").str.to_datetime(fmt, strict=False, time_unit="us")
        if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
            parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        hit = parsed.is_not_null()
        out = out.scatter(todo.get_column("i").filter(hit), parsed.filter(hit))
        todo = todo.filter(~hit)
    return out


def parse_datetimes(
    values: pl.Series, formats: list[str], cache: DistinctCache | None = None
) -> pl.Series:
    """Naive UTC datetimes (null where no format fits); typed columns pass through."""
    if values.dtype == pl.Date:
        return values.cast(pl.Datetime("us"))
    if isinstance(values.dtype, pl.Datetime):
        if values.dtype.time_zone is not None:
            values = values.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return values.cast(pl.Datetime("us"))
    parse = lambda v: _parse_distinct(v, formats)  # noqa: E731
    return map_unique(values.cast(pl.String), parse, cache, ("datetimes", *formats))


def parsed_column(
    frame: pl.DataFrame, column: str, formats: list[str], ctx: CheckContext
) -> pl.Series:
    """parse_datetimes of a frame column, remembered for the run: several temporal checks
    (date_valid, not_in_future, range, freshness) usually read the same timestamps."""
    key = ("datetimes", column, tuple(formats), ctx.scope, frame.height)
    if key not in ctx.memo:
        ctx.memo[key] = parse_datetimes(frame.get_column(column), formats, ctx.cache)
    cached = ctx.memo[key]
    assert isinstance(cached, pl.Series)
    return cached


def naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


class DateValidCheck(ColumnCheckSpec):
    type: Literal["date_valid"] = "date_valid"
    formats: list[str] | None = Field(
        None,
        min_length=1,
        description="strftime formats; default ISO, dd.mm.yyyy and the date_order slash form",
    )


def formats_of(spec: DateValidCheck | None, ctx: CheckContext) -> list[str]:
    if spec is not None and spec.formats:
        return list(spec.formats)
    return default_formats(ctx.date_order)


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, DateValidCheck)
    column = target(spec, ctx)
    assert column is not None
    parsed = parsed_column(frame, column, formats_of(spec, ctx), ctx)
    work = frame.with_columns(parsed.alias("__parsed"))
    return row_violations(
        work,
        ctx,
        "date_valid",
        spec.severity,
        present(column) & pl.col("__parsed").is_null(),
        spec.message or "not a valid date",
        column=column,
    )


checks.add(
    "date_valid", CheckType("date_valid", DateValidCheck, _run, column_needs), aliases=["date"]
)
