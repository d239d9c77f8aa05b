"""postcode_valid (alias postcode): the postcode fits its row's country.

Rows whose country has no pattern here, or is no country we know, are not judged (a wrong
country is country_valid's job); rows without a country are read in the default region.
"""

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
    country_need,
    present,
    row_violations,
    target,
)
from crmclean.core.checks.country_valid import to_alpha2

POSTCODE_PATTERNS: dict[str, str] = {
    "AT": r"[1-9]\d{3}",
    "BE": r"[1-9]\d{3}",
    "CH": r"[1-9]\d{3}",
    "CZ": r"\d{3} ?\d{2}",
    "DE": r"\d{5}",
    "DK": r"[1-9]\d{3}",
    "ES": r"(?:0[1-9]|[1-4]\d|5[0-2])\d{3}",
    "FI": r"\d{5}",
    "FR": r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}",
    "GB": r"(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})",
    "IE": r"[A-Z]\d[\dW] ?[0-9AC-FHKNPRTV-Y]{4}",
    "IT": r"\d{5}",
    "LU": r"(?:L-)?\d{4}",
    "NL": r"[1-9]\d{3} ?[A-Z]{2}",
    "NO": r"\d{4}",
    "PL": r"\d{2}-\d{3}",
    "PT": r"\d{4}-\d{3}",
    "SE": r"\d{3} ?\d{2}",
    "US": r"\d{5}(?:-\d{4})?",
}


class PostcodeValidCheck(ColumnCheckSpec):
    type: Literal["postcode_valid"] = "postcode_valid"
    country: str | None = Field(None, description="Judge every row as this country instead")


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, PostcodeValidCheck)
    return column_needs(spec, ctx) + ([] if spec.country else country_need(ctx))


def _countries(frame: pl.DataFrame, spec: PostcodeValidCheck, ctx: CheckContext) -> pl.Series:
    fixed = spec.country.upper() if spec.country else None
    if fixed is None and ctx.country_column is not None:
        given = frame.get_column(ctx.country_column)
        # A missing country means the default region; a country we cannot read is not judged.
        missing = given.is_null() | (given.cast(pl.String).str.strip_chars() == "")
        default = pl.Series([ctx.default_region] * frame.height, dtype=pl.String)
        return default.zip_with(missing, to_alpha2(given)).alias("__country")
    return pl.Series("__country", [fixed or ctx.default_region] * frame.height, dtype=pl.String)


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, PostcodeValidCheck)
    column = target(spec, ctx)
    assert column is not None
    value = pl.col(column).cast(pl.String).str.strip_chars().str.to_uppercase()
    country = pl.col("__country")
    fits = pl.lit(None, dtype=pl.Boolean)
    for code, pattern in POSTCODE_PATTERNS.items():  # a loop over countries, not rows
        fits = pl.when(country == code).then(value.str.contains(f"^{pattern}$")).otherwise(fits)
    return row_violations(
        frame.with_columns(_countries(frame, spec, ctx)),
        ctx,
        "postcode_valid",
        spec.severity,
        present(column) & (fits == False),  # noqa: E712  (null: country not judged)
        spec.message or pl.format("not a valid postcode for {}", country),
        column=column,
    )


checks.add(
    "postcode_valid",
    CheckType("postcode_valid", PostcodeValidCheck, _run, _needs),
    aliases=["postcode"],
)
