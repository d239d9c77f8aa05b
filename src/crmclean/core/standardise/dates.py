"""Dates and timestamps in many spellings to ISO 8601, vectorised with polars.

Recognised: ISO (2024-03-01, with a time), yyyy/mm/dd, yyyymmdd, dd.mm.yyyy, dd/mm/yyyy or
mm/dd/yyyy (by `order`, else dataset.date_order; the other order when the preferred one is
impossible), dd-mm-yyyy, "1 March 2024", "March 1, 2024", and Excel serial numbers (45352).
A value in a known shape that is no real date (31.02.2024, year 0024) becomes null and is
flagged "impossible date"; a value in no known shape keeps its text and is flagged.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.standardise.base import StepContext, StepResult, StepSpec, register
from crmclean.core.standardise.country import region_expr

Order = Literal["dmy", "mdy", "ymd"]
_NUMERIC = r"^(\d{1,2})([./-])(\d{1,2})[./-](\d{4}|\d{2})$"
_ISO_TIME = (
    r"^(\d{4}-\d{1,2}-\d{1,2})[T ](\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
_GERMAN_TIME = r"^(\d{1,2}\.\d{1,2}\.\d{4}),? (\d{1,2}:\d{2}(?::\d{2})?)$"


class DateStep(StepSpec):
    """Parse dates to ISO yyyy-mm-dd."""

    type: Literal["date"] = "date"
    order: Order | None = Field(None, description="Ambiguous 03/04/2020; default: dataset")
    country_order: dict[str, Order] = Field(
        default_factory=dict, description="Order per country of the row, e.g. {US: mdy}"
    )
    excel_serials: bool = Field(True, description="Read 5-digit numbers as Excel day serials")
    min_year: int = Field(1850, description="Earlier years are impossible dates")
    max_year: int = Field(2100, description="Later years are impossible dates")
    century_pivot: int = Field(
        30, ge=0, le=99, description="Two-digit years up to this are 20yy, later ones 19yy"
    )


class DatetimeStep(DateStep):
    """Parse timestamps to ISO yyyy-mm-ddThh:mm:ss (offsets converted to UTC; dates get 00:00)."""

    type: Literal["datetime"] = "datetime"  # type: ignore[assignment]


def _day_first(text: pl.Expr, sep_ok: pl.Expr, day_first: pl.Expr, pivot: int) -> pl.Expr:
    parts = text.str.extract_groups(_NUMERIC)
    a, b, year = parts.struct.field("1"), parts.struct.field("3"), parts.struct.field("4")
    short = year.str.len_chars() == 2
    century = (
        pl.when(year.cast(pl.Int32, strict=False) <= pivot)
        .then(pl.lit("20"))
        .otherwise(pl.lit("19"))
    )
    year = pl.when(short).then(century + year).otherwise(year)
    day_first = day_first | (parts.struct.field("2") == ".")  # dotted dates are always d.m.y
    dmy = pl.concat_str(year, pl.lit("-"), b, pl.lit("-"), a)
    mdy = pl.concat_str(year, pl.lit("-"), a, pl.lit("-"), b)
    first = pl.when(day_first).then(dmy).otherwise(mdy)
    second = pl.when(day_first).then(mdy).otherwise(dmy)
    iso = "%Y-%m-%d"
    parsed = pl.coalesce(_strp(first, iso), _strp(second, iso))
    return pl.when(sep_ok).then(parsed)


def _strp(text: pl.Expr, fmt: str) -> pl.Expr:
    return text.str.strptime(pl.Date, fmt, strict=False, exact=True)


def _day_first_expr(spec: DateStep, ctx: StepContext) -> pl.Expr:
    default = spec.order or ctx.date_order
    if not spec.country_order or ctx.country_column is None:
        return pl.lit(default != "mdy")
    orders = {code.upper(): o != "mdy" for code, o in spec.country_order.items()}
    country = region_expr(StepContext(ctx.column, ctx.country_column, "ZZ"))
    return country.replace_strict(orders, default=default != "mdy", return_dtype=pl.Boolean)


def parse_date(text: pl.Expr, spec: DateStep, ctx: StepContext) -> tuple[pl.Expr, pl.Expr]:
    """(the Date, whether the text had a date shape) for stripped text."""
    numeric = text.str.contains(_NUMERIC)
    year_first = text.str.contains(r"^\d{4}[-/]")
    words = text.str.replace_all(r"[.,]", " ").str.replace_all(r"\s+", " ")
    serial = text.str.contains(r"^\d{5}(?:\.\d+)?$") & pl.lit(spec.excel_serials)
    days = text.str.extract(r"^(\d{5})", 1).cast(pl.Int64, strict=False)
    candidates = [
        pl.when(year_first).then(_strp(text, "%Y-%m-%d")),
        pl.when(year_first).then(_strp(text, "%Y/%m/%d")),
        pl.when(text.str.contains(r"^\d{8}$")).then(_strp(text, "%Y%m%d")),
        _day_first(text, numeric, _day_first_expr(spec, ctx), spec.century_pivot),
        _strp(words, "%d %B %Y"),
        _strp(words, "%d %b %Y"),
        _strp(words, "%B %d %Y"),
        _strp(words, "%b %d %Y"),
        pl.when(serial).then(pl.date(1899, 12, 30) + pl.duration(days=days)),
    ]
    shaped = (
        text.str.contains(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
        | text.str.contains(r"^\d{8}$")
        | numeric
        | serial
        | words.str.contains(r"^(?:\d{1,2} [A-Za-z]{3,}|[A-Za-z]{3,} \d{1,2}) \d{4}$")
    )
    parsed = pl.coalesce(candidates)
    year = parsed.dt.year()
    in_range = (year >= spec.min_year) & (year <= spec.max_year)
    return pl.when(in_range).then(parsed), shaped | parsed.is_not_null()


def _time_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(date text, hh:mm:ss, offset) of a timestamp; the date text alone when it has no time."""
    iso = text.str.extract_groups(_ISO_TIME)
    german = text.str.extract_groups(_GERMAN_TIME)
    date_text = pl.coalesce(iso.struct.field("1"), german.struct.field("1"), text)
    clock = pl.coalesce(iso.struct.field("2"), german.struct.field("2"))
    clock = pl.when(clock.str.count_matches(":") == 1).then(clock + ":00").otherwise(clock)
    return date_text, clock.fill_null("00:00:00"), iso.struct.field("3")


def _offset_seconds(offset: pl.Expr) -> pl.Expr:
    parts = offset.str.extract_groups(r"^([+-])(\d{2}):?(\d{2})$")
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    hours = parts.struct.field("2").cast(pl.Int64, strict=False)
    minutes = parts.struct.field("3").cast(pl.Int64, strict=False)
    return (sign * (hours * 3600 + minutes * 60)).fill_null(0)


def _date_result(
    frame: pl.DataFrame, ctx: StepContext, out: pl.Expr, shaped: pl.Expr
) -> StepResult:
    value = pl.col(ctx.column).cast(pl.String)
    present = value.str.strip_chars().fill_null("") != ""
    impossible = present & out.is_null() & shaped
    unknown = present & out.is_null() & ~shaped
    result = frame.select(
        pl.when(out.is_not_null())
        .then(out)
        .when(unknown)
        .then(value)
        .when(present)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(value)
        .alias(ctx.column),
        pl.when(impossible)
        .then(pl.lit("impossible date"))
        .when(unknown)
        .then(pl.lit("unrecognised date format"))
        .alias("error"),
    )
    return StepResult(result.get_column(ctx.column), result.get_column("error"))


@register("date", DateStep, "dates -> ISO yyyy-mm-dd")
def _date(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, DateStep)
    text = pl.col(ctx.column).cast(pl.String).str.strip_chars()
    parsed, shaped = parse_date(text, spec, ctx)
    return _date_result(frame, ctx, parsed.dt.strftime("%Y-%m-%d"), shaped)


@register("datetime", DatetimeStep, "timestamps -> ISO yyyy-mm-ddThh:mm:ss", aliases=["timestamp"])
def _datetime(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, DatetimeStep)
    text = pl.col(ctx.column).cast(pl.String).str.strip_chars()
    date_text, clock, offset = _time_parts(text)
    day, shaped = parse_date(date_text, spec, ctx)
    clock_time = clock.str.strptime(pl.Time, "%H:%M:%S", strict=False)
    moment = day.dt.combine(clock_time) - pl.duration(seconds=_offset_seconds(offset))
    out = moment.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return _date_result(frame, ctx, out, shaped)
