"""Country names, codes and aliases in English, German, French, Spanish and Italian to ISO 3166.

Codes and English names come from core/data/countries.csv (shared with the checks); names in
other languages and aliases (UK, U.S.A., Deutschland, Schweiz) from core/data/country_names.csv.
Matching ignores case, accents, punctuation and spaces: "U.S.A." and "usa" are one key.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.standardise.base import StepContext, StepResult, StepSpec, register


class CountryStep(StepSpec):
    """Country name, code or alias -> ISO 3166 alpha-2 (or alpha-3, or the English name)."""

    type: Literal["country"] = "country"
    format: Literal["alpha2", "alpha3", "name"] = Field("alpha2", description="Output form")


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("crmclean.core.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def key_expr(value: pl.Expr) -> pl.Expr:
    """The matching key of a country text: lower case ASCII letters and digits only."""
    folded = value.str.to_lowercase().str.replace_all("ß", "ss").str.replace_all("&", "and")
    stripped = folded.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return stripped.str.replace_all(r"[^a-z0-9]", "")


@cache
def country_table() -> pl.DataFrame:
    """alpha2, alpha3, name: one row per country."""
    return pl.DataFrame(
        [{k: r[k] for k in ("alpha2", "alpha3", "name")} for r in _rows("countries.csv")]
    )


@cache
def alias_table() -> dict[str, str]:
    """Key -> alpha2. Codes win over names, names over aliases (first writer wins)."""
    names: list[tuple[str, str]] = []
    for row in _rows("countries.csv"):
        names += [(row["alpha2"], row["alpha2"]), (row["alpha3"], row["alpha2"])]
        names.append((row["name"], row["alpha2"]))
        names += [(n, row["alpha2"]) for n in row["other_names"].split(";") if n]
    names += [(r["name"], r["alpha2"]) for r in _rows("country_names.csv")]
    keys = pl.select(key_expr(pl.lit(pl.Series([n for n, _ in names])))).to_series().to_list()
    table: dict[str, str] = {}
    for key, (_, code) in zip(keys, names, strict=True):
        if key:
            table.setdefault(key, code)
    return table


@cache
def _alias_series() -> tuple[pl.Series, pl.Series]:
    """alias_table as two Series, made once: every step reading a country column (phone,
    postcode, street) builds the expression again, and for one record converting the table
    cost more than using it."""
    table = alias_table()
    return pl.Series(list(table), dtype=pl.String), pl.Series(table.values(), dtype=pl.String)


def alpha2_expr(value: pl.Expr) -> pl.Expr:
    """Alpha-2 code of a country text; null where unknown or missing."""
    keys, codes = _alias_series()
    return key_expr(value).replace_strict(keys, codes, default=None, return_dtype=pl.String)


def region_expr(ctx: StepContext, column: str | None = None) -> pl.Expr:
    """Each row's region: its country column normalised, else the default region."""
    name = column or ctx.country_column
    if name is None:
        return pl.lit(ctx.default_region, dtype=pl.String)
    return alpha2_expr(pl.col(name).cast(pl.String)).fill_null(pl.lit(ctx.default_region))


def _formatted(code: pl.Expr, form: str) -> pl.Expr:
    if form == "alpha2":
        return code
    table = country_table()
    mapping = dict(zip(table["alpha2"], table[form], strict=True))
    return code.replace_strict(mapping, default=None, return_dtype=pl.String)


@register("country", CountryStep, "country name/code/alias -> ISO 3166")
def _country(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, CountryStep)
    value = pl.col(ctx.column).cast(pl.String)
    out = _formatted(alpha2_expr(value), spec.format)
    unknown = value.is_not_null() & out.is_null()
    result = frame.select(
        pl.when(unknown).then(value).otherwise(out).alias(ctx.column),
        pl.when(unknown).then(pl.lit("unknown country")).alias("error"),
    )
    return StepResult(result.get_column(ctx.column), result.get_column("error"))


__all__ = ["alias_table", "alpha2_expr", "country_table", "key_expr", "region_expr"]
