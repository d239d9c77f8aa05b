"""country_valid (alias country): ISO 3166 alpha-2, alpha-3 or English (and common local) names.

The table ships in crmclean/core/data/countries.csv; nothing is fetched.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
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

Form = Literal["alpha2", "alpha3", "name"]
_ALL_FORMS: list[Form] = ["alpha2", "alpha3", "name"]


@cache
def country_table() -> pl.DataFrame:
    """alpha2, alpha3, name, other_names (semicolon-separated) for every ISO 3166-1 country."""
    data = (resources.files("crmclean.core") / "data" / "countries.csv").read_bytes()
    return pl.read_csv(io.BytesIO(data), schema_overrides={"other_names": pl.String})


@cache
def country_keys(forms: tuple[Form, ...] = ("alpha2", "alpha3", "name")) -> pl.DataFrame:
    """Lower-cased spelling -> alpha2, for the accepted forms."""
    table = country_table()
    parts = []
    for form in forms:
        if form == "name":
            names = table.select(
                "alpha2",
                key=pl.concat_list(
                    pl.col("name"), pl.col("other_names").fill_null("").str.split(";")
                ),
            ).explode("key")
            parts.append(names.select("key", "alpha2"))
        else:
            parts.append(table.select(key=pl.col(form), alpha2="alpha2"))
    keys = pl.concat(parts).with_columns(pl.col("key").str.strip_chars().str.to_lowercase())
    return keys.filter(pl.col("key") != "").unique("key", keep="first", maintain_order=True)


def to_alpha2(values: pl.Series) -> pl.Series:
    """ISO alpha-2 code per row (null when the value is no country we know)."""
    keys = country_keys()

    def lookup(distinct: pl.Series) -> pl.Series:
        frame = pl.DataFrame({"key": distinct.str.strip_chars().str.to_lowercase()})
        return frame.join(keys, on="key", how="left", maintain_order="left").get_column("alpha2")

    return map_unique(values.cast(pl.String), lookup)


class CountryValidCheck(ColumnCheckSpec):
    type: Literal["country_valid"] = "country_valid"
    forms: list[Form] = Field(
        default_factory=lambda: list(_ALL_FORMS),
        min_length=1,
        description="Accepted spellings",
    )


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, CountryValidCheck)
    column = target(spec, ctx)
    assert column is not None
    known = country_keys(tuple(spec.forms)).get_column("key")
    normal = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return row_violations(
        frame,
        ctx,
        "country_valid",
        spec.severity,
        present(column) & ~normal.is_in(known.implode()),
        spec.message or "not an ISO 3166 country",
        column=column,
    )


checks.add(
    "country_valid",
    CheckType("country_valid", CountryValidCheck, _run, column_needs),
    aliases=["country"],
)
