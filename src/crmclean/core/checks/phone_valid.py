"""phone_valid (alias phone): a valid number per libphonenumber, read in each row's region.

The region comes from dataset.country_column (any spelling country_valid accepts) or the default
region. Parsing costs ~15 µs, so it runs once per distinct (value, region) pair, and only for
the pairs the vectorised E.164 path of the phone standardiser cannot vouch for.
"""

from __future__ import annotations

from typing import Literal

import phonenumbers
import polars as pl
from pydantic import Field, field_validator

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
from crmclean.core.standardise.phone_fast import fast_e164

# What phonenumbers ignores between digits (as the phone standardiser's keys).
_SEPARATORS = r"[\s\-./()\u00a0\u2010-\u2015]"


class PhoneValidCheck(ColumnCheckSpec):
    type: Literal["phone_valid"] = "phone_valid"
    region: str | None = Field(None, description="Read every number in this region instead")

    @field_validator("region")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (try DE, GB, US)")
        return value.upper() if value else value


def phone_reason(value: str, region: str) -> str | None:
    """Why the number is invalid in the region, None when it is valid."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        return f"not a phone number ({exc._msg})"
    if phonenumbers.is_valid_number(number):
        return None
    return f"not a valid phone number (read in region {region})"


def regions(frame: pl.DataFrame, spec: PhoneValidCheck, ctx: CheckContext) -> pl.Series:
    """The region to read each row's number in."""
    if spec.region is not None:
        return pl.Series("region", [spec.region] * frame.height, dtype=pl.String)
    default = pl.Series("region", [ctx.default_region] * frame.height, dtype=pl.String)
    if ctx.country_column is None:
        return default
    alpha2 = to_alpha2(frame.get_column(ctx.country_column))
    # Countries without a numbering plan of their own (AQ, BV) read like rows without a country.
    known = alpha2.is_in(sorted(phonenumbers.SUPPORTED_REGIONS))
    return alpha2.zip_with(known, default).fill_null(ctx.default_region).alias("region")


# Below this many distinct numbers the library alone is quicker than building the fast path.
FAST_PATH_FROM = 5_000


def invalid_reasons(
    values: pl.Series, region: pl.Series, fast_from: int = FAST_PATH_FROM
) -> pl.Series:
    """Per row: why the number is invalid, null when valid or missing."""
    pairs = pl.DataFrame({"value": values.cast(pl.String), "region": region})
    distinct = pairs.drop_nulls("value").unique()
    slow = distinct.filter(~_fast_valid(distinct)) if distinct.height >= fast_from else distinct
    # One library call per distinct pair the fast path is not sure of; the library decides.
    reasons = [
        phone_reason(v, r)
        for v, r in zip(slow.get_column("value"), slow.get_column("region"), strict=True)
    ]
    lookup = slow.with_columns(reason=pl.Series(reasons, dtype=pl.String))
    joined = pairs.join(lookup, on=["value", "region"], how="left", maintain_order="left")
    return joined.get_column("reason")


def _fast_valid(distinct: pl.DataFrame) -> pl.Series:
    """True where the vectorised E.164 path (standardise.phone_fast) vouches for the number.

    Separators carry no meaning for phonenumbers, so the fast path sees the bare key; numbers
    written with "+" do not depend on the row's region (region "ZZ").
    """
    key = pl.col("value").str.strip_chars().str.replace_all(_SEPARATORS, "")
    keyed = distinct.with_columns(
        key=key,
        key_region=pl.when(key.str.starts_with("+")).then(pl.lit("ZZ")).otherwise("region"),
    )
    asked = keyed.select("key", region="key_region").unique()
    sure = fast_e164(asked).select("key", key_region="region", sure=pl.lit(True))
    joined = keyed.join(sure, on=["key", "key_region"], how="left", maintain_order="left")
    return joined.get_column("sure").fill_null(False)


def _needs(spec: CheckSpec, ctx: CheckContext) -> list[Need]:
    assert isinstance(spec, PhoneValidCheck)
    return column_needs(spec, ctx) + ([] if spec.region else country_need(ctx))


def _run(spec: CheckSpec, frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    assert isinstance(spec, PhoneValidCheck)
    column = target(spec, ctx)
    assert column is not None
    reasons = invalid_reasons(frame.get_column(column), regions(frame, spec, ctx))
    reason = pl.col("__reason")
    return row_violations(
        frame.with_columns(reasons.alias("__reason")),
        ctx,
        "phone_valid",
        spec.severity,
        present(column) & reason.is_not_null(),
        spec.message or reason,
        column=column,
    )


checks.add(
    "phone_valid", CheckType("phone_valid", PhoneValidCheck, _run, _needs), aliases=["phone"]
)
