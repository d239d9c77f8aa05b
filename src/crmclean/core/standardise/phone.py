"""Phone numbers to E.164 (or international/national format) with `phonenumbers`.

The region of each row comes from the dataset's country column (normalised like the country
step) or the default region. Separators are stripped in polars first, so "030 123-45" and
"(030) 12345" are one distinct input; phonenumbers runs once per distinct (number, region) pair
and the answers are joined back. Invalid numbers keep their value and are flagged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import phonenumbers
import polars as pl
from pydantic import Field, field_validator

from crmclean.core.standardise.base import StepContext, StepResult, StepSpec, register
from crmclean.core.standardise.country import region_expr
from crmclean.core.standardise.phone_fast import fast_e164

_FORMATS = {
    "E164": phonenumbers.PhoneNumberFormat.E164,
    "INTERNATIONAL": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "NATIONAL": phonenumbers.PhoneNumberFormat.NATIONAL,
}
_SEPARATORS = r"[\s\-./()\u00a0\u2010-\u2015]"
_EXTENSION = (
    r"(?i)^(.*?\d.*?)[\s,;]*(?:ext\.?|extension|x|#|durchwahl|dw\.?|poste|interno)"
    r"\s*[:=]?\s*(\d{1,7})$"
)
_NUMBER_RUN = r"(\+?\(?\d[\d\s\-./()\u00a0\u2010-\u2015]*\d|\+?\d)"
EXTENSION_DROPPED = "extension dropped: E.164 cannot hold it; set extension_column to keep it"
_GLOBAL = "ZZ"  # the region of numbers written with "+": the row's region does not matter


class PhoneStep(StepSpec):
    """Parse and format phone numbers; the extension is kept apart."""

    type: Literal["phone"] = "phone"
    format: Literal["E164", "INTERNATIONAL", "NATIONAL"] = "E164"
    default_region: str | None = Field(
        None, description="Region for rows without a country; default: dataset.default_region"
    )
    country_column: str | None = Field(
        None, description="Column with each row's country; default: dataset.country_column"
    )
    extension_column: str | None = Field(
        None,
        description="Column to put extensions in; without it E164 drops them (flagged) and the"
        " other formats write ' ext. 123'",
    )

    def output_columns(self) -> list[str]:
        return [self.extension_column] if self.extension_column else []

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (try DE, GB, US)")
        return value.upper() if value else value

    @field_validator("format", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def _parse_valid(number: str, region: str) -> tuple[phonenumbers.PhoneNumber | None, str | None]:
    """The parsed valid number, or None and why not."""
    try:
        parsed = phonenumbers.parse(number, None if region == _GLOBAL else region)
    except phonenumbers.NumberParseException as exc:
        return None, f"not a phone number: {exc._msg}"
    if not phonenumbers.is_valid_number(parsed):
        where = "" if region == _GLOBAL else f" for region {region}"
        return None, f"not a valid phone number{where}"
    return parsed, None


def _format_one(number: str, region: str, form: str) -> tuple[str | None, str | None, str | None]:
    """(formatted number, extension, error) for one distinct input.

    "00" is the international prefix almost everywhere, so "001 617..." in a US row (whose own
    prefix is 011) is tried as "+1 617..." before it is called invalid.
    """
    parsed, error = _parse_valid(number, region)
    if parsed is None and number.startswith("00"):
        parsed = _parse_valid("+" + number[2:], _GLOBAL)[0]
    if parsed is None:
        return None, None, error
    extension = parsed.extension or None
    parsed.extension = None
    own = phonenumbers.region_code_for_number(parsed)
    use = "INTERNATIONAL" if form == "NATIONAL" and own != region else form
    return phonenumbers.format_number(parsed, _FORMATS[use]), extension, None


def parse_unique(keys: pl.DataFrame, form: str) -> pl.DataFrame:
    """For distinct (key, region) rows: formatted, extension, error. Runs phonenumbers once each."""
    answers = [
        _format_one(k, r, form)
        for k, r in zip(keys["key"].to_list(), keys["region"].to_list(), strict=True)
    ]
    formatted, extension, error = (
        (list(col) for col in zip(*answers, strict=True)) if answers else ([], [], [])
    )
    return keys.with_columns(
        pl.Series("formatted", formatted, dtype=pl.String),
        pl.Series("extension", extension, dtype=pl.String),
        pl.Series("error", error, dtype=pl.String),
    )


@register("phone", PhoneStep, "phone numbers -> E.164 (phonenumbers)", aliases=["phone_e164"])
def _phone(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, PhoneStep)
    row_ctx = StepContext(ctx.column, ctx.country_column, spec.default_region or ctx.default_region)
    value = pl.col(ctx.column).cast(pl.String)
    split = value.str.extract_groups(_EXTENSION)
    number = pl.coalesce(split.struct.field("1"), value)
    # "Tel 0511 778 9054 oder mobil", "+41 22 7846760 (after 6pm)": the number is the first run
    # of digits and separators; words around it would be read as vanity letters.
    core = number.str.extract(_NUMBER_RUN, 1)
    key = pl.coalesce(core, number).str.replace_all(_SEPARATORS, "")
    region = region_expr(row_ctx, spec.country_column)
    rows = frame.select(
        value.alias("value"),
        key.alias("key"),
        pl.when(key.str.starts_with("+") & (spec.format != "NATIONAL"))
        .then(pl.lit(_GLOBAL))
        .otherwise(region)
        .alias("region"),
        split.struct.field("2").alias("typed_extension"),
    )
    distinct = rows.filter(pl.col("key").is_not_null()).select("key", "region").unique()
    slow_counts: list[int] = []

    def compute(rows: pl.DataFrame) -> pl.DataFrame:
        answers, slow = _parse(rows, spec.format)
        slow_counts.append(slow)
        return answers

    parsed, _ = ctx.distinct_answers("phone", distinct, compute)
    joined = rows.join(parsed, on=["key", "region"], how="left", maintain_order="left")
    result = _result(joined, spec, ctx.column, distinct.height)
    return replace(result, slow_inputs=sum(slow_counts))


# Below this many distinct numbers the library is quicker than the fast path's few hundred
# frame operations (the entry check cleans one record at a time); both give the same answers.
_FAST_PATH_FROM = 64


def _parse(distinct: pl.DataFrame, form: str) -> tuple[pl.DataFrame, int]:
    """Answers for distinct inputs: the vectorised fast path first (E.164 only), the library
    for the rest. Returns the answers and how many inputs the library parsed."""
    if form != "E164" or distinct.height < _FAST_PATH_FROM:
        return parse_unique(distinct, form), distinct.height
    fast = fast_e164(distinct)
    rest = distinct.join(fast, on=["key", "region"], how="anti")
    known = fast.select(
        "key",
        "region",
        pl.col("e164").alias("formatted"),
        pl.lit(None, dtype=pl.String).alias("extension"),
        pl.lit(None, dtype=pl.String).alias("error"),
    )
    return pl.concat([known, parse_unique(rest, form)]), rest.height


def _result(joined: pl.DataFrame, spec: PhoneStep, column: str, distinct: int) -> StepResult:
    extension = pl.coalesce("extension", "typed_extension")
    ok = pl.col("formatted").is_not_null()
    formatted = pl.col("formatted")
    error = pl.col("error")
    if spec.extension_column is None and spec.format == "E164":
        # E.164 has no way to write an extension: the number stays valid E.164, and the row is
        # flagged so the extension is not lost without a word (changes keeps the original).
        error = (
            pl.when(ok & extension.is_not_null()).then(pl.lit(EXTENSION_DROPPED)).otherwise(error)
        )
    elif spec.extension_column is None:
        # INTERNATIONAL and NATIONAL write it as phonenumbers does, " ext. 12", read back alike
        inline = pl.concat_str(pl.col("formatted"), pl.lit(" ext. "), extension)
        formatted = pl.coalesce(inline, pl.col("formatted"))
    out = joined.select(
        pl.when(ok).then(formatted).otherwise(pl.col("value")).alias(column),
        pl.when(ok).then(extension).alias("extension"),
        error.alias("error"),
    )
    outputs = {}
    if spec.extension_column is not None:
        outputs[spec.extension_column] = out.get_column("extension").alias(spec.extension_column)
    return StepResult(out.get_column(column), out.get_column("error"), outputs, distinct)
