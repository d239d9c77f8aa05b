"""Key steps for `derive:` columns: ASCII folding, phonetic codes, initials, prefixes.

Key steps make matching and blocking keys. They are not idempotent (the Soundex of a Soundex
code is another code), so they are allowed under `derive:` only, never under `standardise:`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import phonenumbers
import polars as pl
from pydantic import Field

from crmclean.core.standardise import phonetic
from crmclean.core.standardise.base import (
    StepContext,
    StepSpec,
    expr_step,
    register_key,
    value_step,
)

_FOLD_ALWAYS = {
    "ß": "ss",
    "ẞ": "SS",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "ł": "l",
    "Ł": "L",
    "þ": "th",
    "Þ": "TH",
    "ı": "i",
}
_COUNTRY_CODES = [str(code) for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)]
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}


class AsciiStep(StepSpec):
    """Fold to ASCII: ß->ss, ü->ue (or u), accents stripped (NFKD), other non-ASCII dropped."""

    type: Literal["ascii"] = "ascii"
    umlauts: Literal["expand", "strip"] = Field(
        "expand", description="German umlauts: 'expand' ü->ue, 'strip' ü->u"
    )


class PhoneticStep(StepSpec):
    type: Literal["soundex", "metaphone", "nysiis", "cologne"]


class SoundexStep(PhoneticStep):
    """American Soundex (R163), per word joined by spaces."""

    type: Literal["soundex"] = "soundex"


class MetaphoneStep(PhoneticStep):
    """Metaphone code (upper case)."""

    type: Literal["metaphone"] = "metaphone"


class NysiisStep(PhoneticStep):
    """NYSIIS code."""

    type: Literal["nysiis"] = "nysiis"


class CologneStep(PhoneticStep):
    """Kölner Phonetik (German names: Meier, Mayr and Maier all give 67)."""

    type: Literal["cologne"] = "cologne"


class InitialStep(StepSpec):
    """The first letter or digit, upper case."""

    type: Literal["initial"] = "initial"


class PrefixStep(StepSpec):
    """The first `n` characters."""

    type: Literal["prefix"] = "prefix"
    n: int = Field(3, ge=1, le=100)


class AlnumStep(StepSpec):
    """Lower case letters and digits only ("SW1A 1AA" -> "sw1a1aa")."""

    type: Literal["alnum"] = "alnum"


class DigitsStep(StepSpec):
    """Digits only."""

    type: Literal["digits"] = "digits"


class PhoneDigitsStep(StepSpec):
    """Comparable phone digits whatever the number's validity: the national significant number
    (country code or trunk zeros dropped), cut to its last `n` digits.

    "+1 446 284 8536" (valid, E.164) and "(446) 284-8536" (left as typed when invalid for its
    region) both give "462848536"; "+49 30 1234567" and "030 1234567" both "301234567". Fewer
    than `min_digits` digits is no phone number: null.
    """

    type: Literal["phone_digits"] = "phone_digits"
    n: int = Field(9, ge=4, le=15, description="Keep the last n digits of the number")
    min_digits: int = Field(6, ge=1, le=15, description="Shorter numbers give null")


class EmailLocalStep(StepSpec):
    """The local part of an e-mail address (before the last "@"), lower case, its words (split
    at . _ - +) sorted: "Chloe.vanVoorst@yahoo.com" and "vanvoorst_chloe@outlook.com" both give
    "chloe vanvoorst". The same person keeps it when changing provider or mistyping the domain.
    Shorter than `min_length` letters and digits: null (a, jo)."""

    type: Literal["email_local"] = "email_local"
    min_length: int = Field(3, ge=1, le=64)


class SortedTokensStep(StepSpec):
    """Words sorted alphabetically ("Smith John" and "John Smith" agree)."""

    type: Literal["sorted_tokens"] = "sorted_tokens"


def ascii_expr(value: pl.Expr, umlauts: str = "expand") -> pl.Expr:
    table = dict(_FOLD_ALWAYS)
    if umlauts == "expand":
        table |= _UMLAUTS
    folded = value.str.replace_many(list(table), list(table.values()))
    stripped = folded.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return stripped.str.replace_all(r"[^\x00-\x7F]", "")


_PHONETIC: dict[str, Callable[[str], str]] = {
    "soundex": phonetic.soundex,
    "metaphone": phonetic.metaphone,
    "nysiis": phonetic.nysiis,
    "cologne": phonetic.cologne,
}


def _per_word(code: Callable[[str], str]) -> Callable[[str], str | None]:
    """Code each word and join with spaces: "van der Berg" keeps one code per part."""

    def apply(value: str) -> str | None:
        codes = [c for c in (code(w) for w in value.replace("-", " ").split()) if c]
        return " ".join(codes) or None

    return apply


_phonetic = value_step(lambda spec, ctx: _per_word(_PHONETIC[spec.type]))


def _empty_to_null(value: pl.Expr) -> pl.Expr:
    return pl.when(value == "").then(pl.lit(None, dtype=pl.String)).otherwise(value)


def _col(ctx: StepContext) -> pl.Expr:
    return pl.col(ctx.column).cast(pl.String)


_ALNUM = r"[^\p{L}\p{N}]"

register_key("ascii", AsciiStep, "fold to ASCII (ß->ss, ü->ue, accents stripped)")(
    expr_step(lambda spec, ctx: ascii_expr(_col(ctx), spec.umlauts))  # type: ignore[attr-defined]
)
for _name, _spec, _summary in (
    ("soundex", SoundexStep, "Soundex code per word"),
    ("metaphone", MetaphoneStep, "Metaphone code per word"),
    ("nysiis", NysiisStep, "NYSIIS code per word"),
    ("cologne", CologneStep, "Cologne phonetic (Kölner Phonetik) per word"),
):
    _aliases = ["koelner", "kolner_phonetik"] if _name == "cologne" else None
    register_key(_name, _spec, _summary, aliases=_aliases)(_phonetic)
register_key("initial", InitialStep, "first letter or digit, upper case")(
    expr_step(
        lambda spec, ctx: _empty_to_null(
            _col(ctx).str.replace_all(_ALNUM, "").str.slice(0, 1).str.to_uppercase()
        )
    )
)
register_key("prefix", PrefixStep, "first n characters", aliases=["first_n"])(
    expr_step(lambda spec, ctx: _empty_to_null(_col(ctx).str.slice(0, spec.n)))  # type: ignore[attr-defined]
)
register_key("alnum", AlnumStep, "lower-case letters and digits only")(
    expr_step(
        lambda spec, ctx: _empty_to_null(_col(ctx).str.to_lowercase().str.replace_all(_ALNUM, ""))
    )
)
register_key("digits", DigitsStep, "digits only")(
    expr_step(lambda spec, ctx: _empty_to_null(_col(ctx).str.replace_all(r"\D", "")))
)


def phone_digits_expr(value: pl.Expr, n: int = 9, min_digits: int = 6) -> pl.Expr:
    """The national significant number of each phone (see PhoneDigitsStep), vectorised.

    Country calling codes are a prefix code (no code starts another), so after "+" or "00"
    exactly one of the first one, two or three digits is a code, and dropping it leaves the
    national number; without them the trunk prefix (0 in most of the world) goes.
    """
    text = value.str.strip_chars()
    international = text.str.starts_with("+") | text.str.starts_with("00")
    digits = text.str.replace_all(r"\D", "")
    digits = pl.when(text.str.starts_with("00")).then(digits.str.slice(2)).otherwise(digits)

    def code(width: int) -> pl.Expr:
        widths = [c for c in _COUNTRY_CODES if len(c) == width]
        return international & digits.str.slice(0, width).is_in(widths)

    code_length = pl.when(code(1)).then(1).when(code(2)).then(2).when(code(3)).then(3).otherwise(0)
    nsn = digits.str.slice(code_length).str.strip_chars_start("0")
    key = nsn.str.slice(-n)
    return pl.when(nsn.str.len_chars() >= min_digits).then(key)


register_key(
    "phone_digits",
    PhoneDigitsStep,
    "comparable phone digits: national number, last n digits, valid or not",
    aliases=["phone_key"],
)(
    expr_step(
        lambda spec, ctx: phone_digits_expr(_col(ctx), spec.n, spec.min_digits)  # type: ignore[attr-defined]
    )
)


def email_local_expr(value: pl.Expr, min_length: int = 3) -> pl.Expr:
    local = value.str.to_lowercase().str.extract(r"^(.*)@[^@]*$", 1)
    words = local.str.split_exact("+", 1).struct.field("field_0")  # a +tag is not the person
    tokens = (
        words.str.replace_all(r"[._\-]+", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.sort()
        .list.join(" ")
    )
    length = tokens.str.replace_all(" ", "").str.len_chars()
    return pl.when(length >= min_length).then(tokens)


register_key(
    "email_local",
    EmailLocalStep,
    "e-mail local part, its words sorted (survives a new provider)",
    aliases=["email_local_part"],
)(
    expr_step(lambda spec, ctx: email_local_expr(_col(ctx), spec.min_length))  # type: ignore[attr-defined]
)
register_key("sorted_tokens", SortedTokensStep, "words sorted alphabetically")(
    expr_step(
        lambda spec, ctx: _empty_to_null(
            _col(ctx)
            .str.split(" ")
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.sort()
            .list.join(" ")
        )
    )
)

__all__ = ["ascii_expr", "email_local_expr", "phone_digits_expr"]
