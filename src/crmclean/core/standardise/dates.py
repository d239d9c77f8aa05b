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

from crmclean.core.standardise.base import (
    StepContext,
    StepResult,
    StepSpec,
    on_distinct,
    register,
)
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


def _strp(text: pl.Expr, fmt: str) -> pl.Expr:
    return text.str.strptime(pl.Date, fmt, strict=False, exact=True)


def _day_first_expr(spec: DateStep, ctx: StepContext) -> pl.Expr:
    default = spec.order or ctx.date_order
    if not spec.country_order or ctx.country_column is None:
        return pl.lit(default != "mdy")
    orders = {code.upper(): o != "mdy" for code, o in spec.country_order.items()}
    country = region_expr(StepContext(ctx.column, ctx.country_column, "ZZ"))
    return country.replace_strict(orders, default=default != "mdy", return_dtype=pl.Boolean)


def parse_dates(frame: pl.DataFrame, spec: DateStep, text: str = "text") -> pl.DataFrame:
    """Add `parsed` (Date, null unless a real date in range) and `shaped` (the text looks like a
    date) to a frame of stripped `text` and a boolean `day_first`. Intermediate columns are
    staged so that every regular expression runs once per row."""
    t = pl.col(text)
    staged = _numeric_parts(frame, t, spec)
    staged = staged.with_columns(_parsed(t).alias("parsed"), _shaped(t).alias("shaped"))
    year_ok = pl.col("parsed").dt.year().is_between(spec.min_year, spec.max_year)
    return staged.with_columns(
        pl.when(year_ok).then("parsed").alias("parsed"),
        (pl.col("shaped") | pl.col("parsed").is_not_null()).alias("shaped"),
    ).select(*frame.columns, "parsed", "shaped")


def _numeric_parts(frame: pl.DataFrame, t: pl.Expr, spec: DateStep) -> pl.DataFrame:
    """Stage the parts of d.m.y / m/d/y texts as ISO strings in both orders, preferred first."""
    staged = frame.with_columns(
        t.str.extract_groups(_NUMERIC).struct.rename_fields(["_a", "_sep", "_b", "_y"]).alias("_n"),
        t.str.replace_all(r"[.,]", " ").str.replace_all(r"\s+", " ").alias("_words"),
        t.str.contains(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$").alias("_year_first"),
        (t.str.contains(r"^\d{5}(?:\.\d+)?$") & pl.lit(spec.excel_serials)).alias("_serial"),
    ).unnest("_n")
    short = pl.col("_y").str.len_chars() == 2
    century = pl.when(pl.col("_y").cast(pl.Int32, strict=False) <= spec.century_pivot)
    year = pl.when(short).then(century.then(pl.lit("20")).otherwise(pl.lit("19")) + pl.col("_y"))
    staged = staged.with_columns(
        year.otherwise(pl.col("_y")).alias("_y"),
        (pl.col("day_first") | (pl.col("_sep") == ".")).alias("_dmy"),  # d.m.y is day first
    )
    dmy = pl.concat_str("_y", pl.lit("-"), "_b", pl.lit("-"), "_a")
    mdy = pl.concat_str("_y", pl.lit("-"), "_a", pl.lit("-"), "_b")
    return staged.with_columns(
        pl.when("_dmy").then(dmy).otherwise(mdy).alias("_first"),
        pl.when("_dmy").then(mdy).otherwise(dmy).alias("_second"),
    )


def _parsed(t: pl.Expr) -> pl.Expr:
    """The first format that reads the text as a real date (over the staged columns)."""
    words = pl.col("_words")
    days = t.str.extract(r"^(\d{5})", 1).cast(pl.Int64, strict=False)
    return pl.coalesce(
        pl.when("_year_first").then(_strp(t.str.replace_all("/", "-"), "%Y-%m-%d")),
        pl.when(t.str.contains(r"^\d{8}$")).then(_strp(t, "%Y%m%d")),
        _strp(pl.col("_first"), "%Y-%m-%d"),
        _strp(pl.col("_second"), "%Y-%m-%d"),
        _strp(words, "%d %B %Y"),
        _strp(words, "%d %b %Y"),
        _strp(words, "%B %d %Y"),
        _strp(words, "%b %d %Y"),
        pl.when("_serial").then(pl.date(1899, 12, 30) + pl.duration(days=days)),
    )


def _shaped(t: pl.Expr) -> pl.Expr:
    """Whether the text is written like a date at all (impossible dates are, "hello" is not)."""
    return (
        pl.col("_year_first")
        | t.str.contains(r"^\d{8}$")
        | pl.col("_a").is_not_null()
        | pl.col("_serial")
        | pl.col("_words").str.contains(r"^(?:\d{1,2} [A-Za-z]{3,}|[A-Za-z]{3,} \d{1,2}) \d{4}$")
    )


def _result(out: pl.DataFrame, column: str) -> StepResult:
    """From distinct rows joined back: `value`, `out` (formatted or null), `shaped`."""
    value, formatted = pl.col("value"), pl.col("out")
    present = value.str.strip_chars().fill_null("") != ""
    impossible = present & formatted.is_null() & pl.col("shaped")
    unknown = present & formatted.is_null() & ~pl.col("shaped")
    result = out.select(
        pl.when(formatted.is_not_null())
        .then(formatted)
        .when(unknown)
        .then(value)
        .when(present)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(value)
        .alias(column),
        pl.when(impossible)
        .then(pl.lit("impossible date"))
        .when(unknown)
        .then(pl.lit("unrecognised date format"))
        .alias("error"),
    )
    return StepResult(result.get_column(column), result.get_column("error"))


def _keys(frame: pl.DataFrame, spec: DateStep, ctx: StepContext) -> pl.DataFrame:
    value = pl.col(ctx.column).cast(pl.String)
    return frame.select(value.alias("value"), _day_first_expr(spec, ctx).alias("day_first"))


@register("date", DateStep, "dates -> ISO yyyy-mm-dd")
def _date(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, DateStep)

    def compute(distinct: pl.DataFrame) -> pl.DataFrame:
        texts = distinct.with_columns(pl.col("value").str.strip_chars().alias("text"))
        parsed = parse_dates(texts, spec)
        return parsed.select(
            "value", "day_first", pl.col("parsed").dt.strftime("%Y-%m-%d").alias("out"), "shaped"
        )

    return _result(on_distinct(_keys(frame, spec, ctx), compute, ctx), ctx.column)


# Most timestamps are already ISO without an offset: one strptime answers them.
_PLAIN_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}Z?$"


def _plain_iso(spec: DateStep) -> tuple[pl.Expr, pl.Expr]:
    text = pl.concat_str(
        pl.col("value").str.slice(0, 10), pl.lit("T"), pl.col("value").str.slice(11, 8)
    )
    moment = text.str.strptime(pl.Datetime, "%Y-%m-%dT%H:%M:%S", strict=False)
    in_range = moment.dt.year().is_between(spec.min_year, spec.max_year)
    out = pl.when(in_range).then(moment.dt.strftime("%Y-%m-%dT%H:%M:%S"))
    return out.alias("out"), pl.lit(True).alias("shaped")


def _offset_seconds(offset: pl.Expr) -> pl.Expr:
    parts = offset.str.extract_groups(r"^([+-])(\d{2}):?(\d{2})$")
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    hours = parts.struct.field("2").cast(pl.Int64, strict=False)
    minutes = parts.struct.field("3").cast(pl.Int64, strict=False)
    return (sign * (hours * 3600 + minutes * 60)).fill_null(0)


def _split_timestamps(distinct: pl.DataFrame) -> pl.DataFrame:
    """Add `text` (the date part), `clock` (hh:mm:ss, midnight if none) and `offset`."""
    t = pl.col("value").str.strip_chars()
    staged = distinct.with_columns(
        t.str.extract_groups(_ISO_TIME).struct.rename_fields(["_d1", "_c1", "offset"]).alias("_i"),
        t.str.extract_groups(_GERMAN_TIME).struct.rename_fields(["_d2", "_c2"]).alias("_g"),
        t.alias("_t"),
    ).unnest("_i", "_g")
    clock = pl.coalesce("_c1", "_c2")
    staged = staged.with_columns(
        pl.coalesce("_d1", "_d2", "_t").alias("text"), clock.alias("clock")
    ).with_columns(
        pl.when(pl.col("clock").str.count_matches(":") == 1)
        .then(pl.col("clock") + ":00")
        .otherwise(pl.col("clock"))
        .fill_null("00:00:00")
        .alias("clock")
    )
    return staged.select(*distinct.columns, "text", "clock", "offset")


@register("datetime", DatetimeStep, "timestamps -> ISO yyyy-mm-ddThh:mm:ss", aliases=["timestamp"])
def _datetime(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, DatetimeStep)

    def compute(distinct: pl.DataFrame) -> pl.DataFrame:
        plain = pl.col("value").str.contains(_PLAIN_ISO).fill_null(False)
        fast = distinct.filter(plain).select("value", "day_first", *_plain_iso(spec))
        parsed = parse_dates(_split_timestamps(distinct.filter(~plain)), spec)
        clock = pl.col("clock").str.strptime(pl.Time, "%H:%M:%S", strict=False)
        moment = pl.col("parsed").dt.combine(clock) - pl.duration(
            seconds=_offset_seconds(pl.col("offset"))
        )
        slow = parsed.select(
            "value", "day_first", moment.dt.strftime("%Y-%m-%dT%H:%M:%S").alias("out"), "shaped"
        )
        return pl.concat([fast, slow])

    return _result(on_distinct(_keys(frame, spec, ctx), compute, ctx), ctx.column)
