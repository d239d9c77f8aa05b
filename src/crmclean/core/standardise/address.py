"""Street lines: street-type words abbreviated or written out (Street/St, Straße/Str.,
Avenue/Ave, Road/Rd, avenue/av., Calle/C/, Via/V.) by the language of the row's country, and the
house number split off into its own column.

Only the street-type word is touched: at the end of the name or before the house number in
English and German, at the start (after a leading number) in French, Spanish and Italian.
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

Language = Literal["en", "de", "fr", "es", "it"]
LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US", "IE", "CA", "AU", "NZ"),
    "de": ("DE", "AT", "CH", "LI", "LU"),
    "fr": ("FR", "BE", "LU", "MC", "CH", "CA"),
    "es": ("ES", "MX", "AR", "CO", "CL", "PE"),
    "it": ("IT", "SM", "CH"),
}
# (full, abbreviation, other spellings); words after the name ("High Street") ...
_SUFFIX_TYPES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "en": [
        ("Street", "St", ()),
        ("Avenue", "Ave", ("Av",)),
        ("Road", "Rd", ()),
        ("Boulevard", "Blvd", ()),
        ("Drive", "Dr", ()),
        ("Lane", "Ln", ()),
        ("Court", "Ct", ()),
        ("Place", "Pl", ()),
        ("Square", "Sq", ()),
        ("Terrace", "Ter", ()),
        ("Crescent", "Cres", ()),
        ("Highway", "Hwy", ()),
    ],
    "de": [("Straße", "Str.", ("Strasse", "Str"))],
}
# ... and words before it ("avenue des Champs-Élysées").
_PREFIX_TYPES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "fr": [
        ("avenue", "av.", ("av", "ave")),
        ("boulevard", "bd", ("bld", "boul")),
        ("place", "pl.", ("pl",)),
        ("route", "rte", ()),
        ("chemin", "ch.", ("ch",)),
        ("impasse", "imp.", ("imp",)),
    ],
    "es": [
        ("Calle", "C/", ("C.", "Cl.", "Cl")),
        ("Avenida", "Avda.", ("Av.", "Avda", "Avd.")),
        ("Plaza", "Pza.", ("Pl.", "Pza", "Plza.")),
        ("Paseo", "Pº", ("Po.", "Pso.")),
    ],
    "it": [
        ("Via", "V.", ()),
        ("Piazza", "P.za", ("P.zza", "Pza")),
        ("Corso", "C.so", ()),
        ("Viale", "V.le", ()),
    ],
}
_AFTER = r"(\s*(?:,|\d|$))"


class StreetStep(StepSpec):
    """Abbreviate (or write out) street-type words by the language of the row's country."""

    type: Literal["street"] = "street"
    style: Literal["abbreviate", "expand"] = "abbreviate"
    languages: dict[Language, list[str]] | None = Field(
        None, description="Countries per language; default: en GB US IE..., de DE AT CH..."
    )


class SplitHouseNumberStep(StepSpec):
    """Move the house number ("12a", "12-14") out of the street line into its own column."""

    type: Literal["split_house_number"] = "split_house_number"
    into: str = Field(description="Column to receive the house number")
    position: Literal["auto", "leading", "trailing"] = Field(
        "auto", description="auto: leading for GB/US/IE/FR/CA/AU/NZ, trailing elsewhere"
    )

    def output_columns(self) -> list[str]:
        return [self.into]


def _alternatives(full: str, abbr: str, other: tuple[str, ...]) -> str:
    forms = sorted({full, abbr.rstrip("."), *(o.rstrip(".") for o in other)}, key=len, reverse=True)
    return "|".join(_escape(f) for f in forms)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in r".^$*+?()[]{}|\/" else c for c in text)


def _suffix_rules(language: str, style: str, value: pl.Expr) -> pl.Expr:
    for full, abbr, other in _SUFFIX_TYPES.get(language, []):
        target = abbr if style == "abbreviate" else full
        words = _alternatives(full, abbr, other)
        if language == "de":  # joined: "Hauptstraße"/"Hauptstr."; apart: "Berliner Straße"
            glued = rf"(?i)(\p{{Ll}})(?:{words.lower()})\.?{_AFTER}"
            value = value.str.replace_all(glued, "${1}" + target.lower() + "${2}")
        pattern = rf"(?i)(^|\s)(?:{words})\b\.?{_AFTER}"
        value = value.str.replace_all(pattern, "${1}" + target + "${2}")
    return value


def _prefix_rules(language: str, style: str, value: pl.Expr) -> pl.Expr:
    for full, abbr, other in _PREFIX_TYPES.get(language, []):
        target = abbr if style == "abbreviate" else full
        words = _alternatives(full, abbr, other)
        # A dot glued to a lower-case letter is a contraction ("V.le" is Viale, not "V." + "le"),
        # so "Via"/"V." must leave it alone or a second run would turn "V.le" into "V. le".
        after = r"(?:(?:\.\s*|\s+)([^\s\p{Ll}])|(?:\.\s+|\s+)(\p{Ll}))"
        pattern = rf"^(\d+\w*,?\s+)?(?i:{words}){after}"
        value = value.str.replace(pattern, "${1}" + _escape_dollar(target) + " ${2}${3}")
    return value


def _escape_dollar(text: str) -> str:
    return text.replace("$", "$$")


def _abbreviate(spec: StreetStep, distinct: pl.DataFrame) -> pl.DataFrame:
    """Distinct (value, region) rows with `out`: one staged column per language."""
    languages = spec.languages or LANGUAGES
    staged = distinct.with_columns(pl.col("value").alias("out"))
    present = set(distinct.get_column("region").unique().drop_nulls().to_list())
    for language, countries in languages.items():
        if not present.intersection(countries):
            continue  # no value of this language's countries: its rules would change nothing
        changed = _prefix_rules(
            language, spec.style, _suffix_rules(language, spec.style, pl.col("out"))
        )
        staged = staged.with_columns(
            pl.when(pl.col("region").is_in(list(countries)))
            .then(changed)
            .otherwise("out")
            .alias("out")
        )
    return staged


@register("street", StreetStep, "street-type words abbreviated or written out by country")
def _street(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, StreetStep)
    keys = frame.select(
        pl.col(ctx.column).cast(pl.String).alias("value"), region_expr(ctx).alias("region")
    )
    out = on_distinct(keys, lambda distinct: _abbreviate(spec, distinct), ctx)
    return StepResult(out.get_column("out").alias(ctx.column))


_NUMBER = r"\d+\s?[A-Za-z]?(?:\s?[-/]\s?\d+\s?[A-Za-z]?)?"
# The street keeps a letter next to the cut, so a second split finds nothing (idempotent).
_TRAILING = rf"^(.*\p{{L}}[^\s\d]*)[\s,]+({_NUMBER})$"
_LEADING = rf"^({_NUMBER}),?\s+(\p{{L}}.*)$"
_NUMBER_FIRST = ("GB", "US", "IE", "FR", "CA", "AU", "NZ")


@register("split_house_number", SplitHouseNumberStep, "house number into its own column")
def _split_house_number(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, SplitHouseNumberStep)
    value = pl.col(ctx.column).cast(pl.String).str.strip_chars()
    trailing = value.str.extract_groups(_TRAILING)
    leading = value.str.extract_groups(_LEADING)
    if spec.position == "auto":
        first = region_expr(ctx).is_in(list(_NUMBER_FIRST))
    else:
        first = pl.lit(spec.position == "leading")
    street = pl.when(first).then(leading.struct.field("2")).otherwise(trailing.struct.field("1"))
    number = pl.when(first).then(leading.struct.field("1")).otherwise(trailing.struct.field("2"))
    out = frame.select(
        pl.coalesce(street.str.strip_chars(), pl.col(ctx.column).cast(pl.String)).alias(ctx.column),
        number.str.replace_all(r"\s", "").alias(spec.into),
    )
    return StepResult(out.get_column(ctx.column), outputs={spec.into: out.get_column(spec.into)})
