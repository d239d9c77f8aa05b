"""Postcodes per country: GB "SW1A 1AA", NL "1234 AB", US ZIP+4 "12345-6789", DE five digits
with lost leading zeros restored ("1067" -> "01067"), and more. The country of each row comes
from the dataset's country column; values that do not fit their country keep their text and are
flagged. Countries without a rule are upper-cased with single spaces.
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


class PostcodeStep(StepSpec):
    """Normalise and check postcodes by the row's country."""

    type: Literal["postcode"] = "postcode"
    country_column: str | None = Field(None, description="Default: dataset.country_column")
    default_region: str | None = Field(None, description="Default: dataset.default_region")


def _digits(compact: pl.Expr, width: int, shortest: int) -> pl.Expr:
    """`width` digits, zero-padded from `shortest` (spreadsheets drop leading zeros)."""
    ok = compact.str.contains(rf"^\d{{{shortest},{width}}}$")
    return pl.when(ok).then(compact.str.zfill(width))


def _pattern(compact: pl.Expr, pattern: str, template: str) -> pl.Expr:
    return pl.when(compact.str.contains(pattern)).then(compact.str.replace(pattern, template))


def _us(compact: pl.Expr) -> pl.Expr:
    five = _digits(compact, 5, 3)
    plus4 = _pattern(compact, r"^(\d{5})(\d{4})$", "${1}-${2}")
    return pl.coalesce(plus4, five)


def rules(compact: pl.Expr) -> dict[str, pl.Expr]:
    """Country -> the formatted postcode, null where the compact text does not fit."""
    four = _digits(compact, 4, 4)
    five = _digits(compact, 5, 5)
    out = dict.fromkeys(("AT", "CH", "BE", "DK", "NO", "LU", "HU", "SI", "BG", "AU", "LI"), four)
    out |= dict.fromkeys(("FI", "HR", "EE", "MC", "GR", "TR", "MX", "UA"), five)
    out |= {"DE": _digits(compact, 5, 4), "FR": _digits(compact, 5, 4)}
    out |= {"ES": _digits(compact, 5, 4), "IT": _digits(compact, 5, 3)}
    out |= {
        "US": _us(compact),
        "NL": _pattern(compact, r"^([1-9]\d{3})([A-Z]{2})$", "${1} ${2}"),
        "GB": _pattern(compact, r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$", "${1} ${2}"),
        "IE": _pattern(
            compact, r"^([AC-FHKNPRTV-Y]\d{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})$", "${1} ${2}"
        ),
        "CA": _pattern(compact, r"^([A-Z]\d[A-Z])(\d[A-Z]\d)$", "${1} ${2}"),
        "PL": _pattern(compact, r"^(\d{2})(\d{3})$", "${1}-${2}"),
        "PT": _pattern(compact, r"^(\d{4})(\d{3})$", "${1}-${2}"),
        "SE": _pattern(compact, r"^(\d{3})(\d{2})$", "${1} ${2}"),
        "CZ": _pattern(compact, r"^(\d{3})(\d{2})$", "${1} ${2}"),
        "SK": _pattern(compact, r"^(\d{3})(\d{2})$", "${1} ${2}"),
        "BR": _pattern(compact, r"^(\d{5})(\d{3})$", "${1}-${2}"),
        "JP": _pattern(compact, r"^(\d{3})(\d{4})$", "${1}-${2}"),
    }
    return out


def compact_expr(value: pl.Expr) -> pl.Expr:
    """Upper case without spaces, dashes and dots, and without a "D-"/"CH-" country prefix."""
    upper = value.str.strip_chars().str.to_uppercase()
    unprefixed = upper.str.replace(r"^[A-Z]{1,3}\s*-\s*(\d)", "${1}")
    return unprefixed.str.replace_all(r"[\s\-.]", "")


@register("postcode", PostcodeStep, "postcodes formatted by country", aliases=["zip"])
def _postcode(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, PostcodeStep)
    default = spec.default_region or ctx.default_region
    region = region_expr(StepContext(ctx.column, ctx.country_column, default), spec.country_column)
    keys = frame.select(pl.col(ctx.column).cast(pl.String).alias("value"), region.alias("region"))
    out = on_distinct(keys, _format, ctx)
    return StepResult(out.get_column("out").alias(ctx.column), out.get_column("error"))


def _format(distinct: pl.DataFrame) -> pl.DataFrame:
    """Distinct (value, region) rows with `out` and `error`; each rule reads staged columns."""
    value, region = pl.col("value"), pl.col("region")
    staged = distinct.with_columns(compact_expr(value).alias("compact"))
    by_country = rules(pl.col("compact"))
    formatted: pl.Expr = value.str.strip_chars().str.to_uppercase().str.replace_all(r"\s+", " ")
    present = set(distinct.get_column("region").unique().drop_nulls().to_list())
    for country, expr in by_country.items():
        if country not in present:
            continue  # no value of this country: its rule would change nothing
        formatted = pl.when(region == country).then(expr).otherwise(formatted)
    staged = staged.with_columns(formatted.alias("formatted"))
    bad = (
        value.is_not_null()
        & region.is_in(list(by_country))
        & pl.col("formatted").is_null()
        & (value.str.strip_chars() != "")
    )
    return staged.select(
        "value",
        "region",
        pl.when(bad).then(value).otherwise(pl.col("formatted")).alias("out"),
        pl.when(bad).then(pl.lit("not a valid postcode for ") + region).alias("error"),
    )
