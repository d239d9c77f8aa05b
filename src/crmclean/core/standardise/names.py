"""Person names: casing that knows McDonald, O'Neil, van der Berg and de la Cruz; splitting a full
name into first and last; salutations and titles (Mr, Dr, Herr, Frau...); and nickname keys.

Names repeat a lot, so the Python rules run once per distinct value and are joined back.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.standardise.base import (
    StepContext,
    StepResult,
    StepSpec,
    column_values,
    expr_step,
    map_unique_columns,
    map_unique_pairs,
    register,
    register_key,
    value_step,
)

# Lower-case name particles (kept lower case unless they are the last word of the value).
PARTICLES = frozenset(
    ("van", "von", "der", "den", "de", "del", "della", "dei", "degli", "di", "da", "das", "do",
     "dos", "du", "la", "le", "les", "lo", "ten", "ter", "zu", "zum", "zur", "y", "af", "av")
)  # fmt: skip
SALUTATIONS = {
    "mr": "Mr", "mister": "Mr", "mrs": "Mrs", "ms": "Ms", "miss": "Miss", "mx": "Mx",
    "herr": "Herr", "hr": "Herr", "frau": "Frau", "fr": "Frau",
    "m": "M.", "monsieur": "M.", "mme": "Mme", "madame": "Mme", "mlle": "Mlle",
    "mademoiselle": "Mlle", "sr": "Sr.", "señor": "Sr.", "senor": "Sr.", "sra": "Sra.",
    "señora": "Sra.", "senora": "Sra.", "srta": "Srta.", "sig": "Sig.", "signor": "Sig.",
    "signore": "Sig.", "sigra": "Sig.ra", "sig.ra": "Sig.ra", "signora": "Sig.ra",
    "dhr": "Dhr.", "de heer": "Dhr.", "heer": "Dhr.", "mevr": "Mevr.", "mevrouw": "Mevr.",
    "mw": "Mevr.", "don": "Don", "doña": "Doña", "dona": "Doña", "fru": "Fru", "sra.": "Sra.",
}  # fmt: skip
TITLES = {
    "dr": "Dr", "doctor": "Dr", "doktor": "Dr", "prof": "Prof", "professor": "Prof",
    "dott": "Dott.", "dottssa": "Dott.ssa", "dott.ssa": "Dott.ssa", "ing": "Ing.",
    "dipl.-ing": "Dipl.-Ing.", "dipl-ing": "Dipl.-Ing.", "mag": "Mag.", "lic": "Lic.",
}  # fmt: skip
_CANONICAL = {**SALUTATIONS, **TITLES}


class PersonNameStep(StepSpec):
    """Person-name casing: "mcdonald" -> "McDonald", "VAN DER BERG" -> "van der Berg"."""

    type: Literal["person_name"] = "person_name"


class SplitNameStep(StepSpec):
    """Split a full name into first and last name columns ("Müller, Hans" is understood too)."""

    type: Literal["split_name"] = "split_name"
    first: str = Field(description="Column to receive the first name(s)")
    last: str = Field(description="Column to receive the last name (with its particles)")
    order: Literal["first_last", "last_first"] = "first_last"

    def output_columns(self) -> list[str]:
        return [self.first, self.last]


class ExtractSalutationStep(StepSpec):
    """Move leading salutations (Mr, Frau, Mme...) and titles (Dr, Prof) out of a name."""

    type: Literal["extract_salutation"] = "extract_salutation"
    into: str = Field(description="Column to receive the salutation")
    titles_into: str | None = Field(
        None, description="Column to receive academic titles; without it they stay in the name"
    )

    def output_columns(self) -> list[str]:
        return [self.into, *([self.titles_into] if self.titles_into else [])]


class SalutationStep(StepSpec):
    """A salutation column to its canonical spelling: "herr" -> "Herr", "mrs." -> "Mrs"."""

    type: Literal["salutation"] = "salutation"


class NicknameStep(StepSpec):
    """The first name a nickname stands for (Bob -> Robert); unknown names stay. Derive only."""

    type: Literal["nickname"] = "nickname"


def _up(char: str) -> str:
    """Upper case only where it is one character that lower-cases back (keeps ß, ŉ as they are)."""
    upper = char.upper()
    return upper if len(upper) == 1 and upper.lower() == char else char


def _cap(part: str) -> str:
    if not part:
        return part
    if part.startswith("mc") and len(part) > 2:
        return "M" + "c" + _up(part[2]) + part[3:]
    return _up(part[0]) + part[1:]


def _case_word(word: str, particle_allowed: bool) -> str:
    if particle_allowed and word in PARTICLES:
        return word
    out = []
    for hyphen_part in word.split("-"):
        pieces = hyphen_part.split("'")
        cased = [_cap(pieces[0])]
        for before, piece in pairwise(pieces):
            cased.append(_cap(piece) if len(before) == 1 else piece)
        out.append("'".join(cased))
    return "-".join(out)


def person_case(value: str) -> str:
    """Title case for names, depending only on the value's lower case (so it is idempotent)."""
    words = value.replace("’", "'").lower().split(" ")
    last = max((i for i, w in enumerate(words) if w), default=-1)
    return " ".join(_case_word(w, i < last) for i, w in enumerate(words))


def split_full_name(value: str, order: str) -> tuple[str | None, str | None]:
    """(first, last) of a full name; particles belong to the last name."""
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip() or None, last.strip() or None
    words = value.split()
    if len(words) <= 1:
        return None, words[0] if words else None
    if order == "last_first":
        cut = next((i for i, w in enumerate(words) if w.lower() not in PARTICLES), 0) + 1
        return " ".join(words[cut:]) or None, " ".join(words[:cut])
    cut = next((i for i in range(1, len(words)) if words[i].lower() in PARTICLES), len(words) - 1)
    return " ".join(words[:cut]), " ".join(words[cut:])


def _token_key(token: str) -> str:
    return " ".join(token.lower().rstrip(".").replace("..", ".").split())


def extract_salutation(value: str, titles: bool = True) -> tuple[str | None, ...]:
    """(name without leading salutations and titles, salutation, title).

    Without `titles`, only salutations are taken: "Herr Dr. Weber" -> "Dr. Weber", "Herr".
    """
    words = value.split()
    salutation = title = None
    while len(words) > 1 and _token_key(words[0]) in _CANONICAL:
        key = _token_key(words[0])
        if key == "m" and not words[0].endswith("."):
            break  # "M Smith" is an initial; only "M." is Monsieur
        if key in SALUTATIONS:
            salutation = salutation or SALUTATIONS[key]
        elif titles:
            title = " ".join(t for t in (title, TITLES[key]) if t)
        else:
            break
        words = words[1:]
    if salutation is None and title is None:
        return value, None, None
    return " ".join(words), salutation, title


@cache
def nickname_table() -> dict[str, str]:
    """lower-case nickname -> name; the first row wins where a nickname has several names."""
    text = resources.files("crmclean.core.data").joinpath("nicknames.csv").read_text("utf-8")
    table: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        table.setdefault(row["nickname"].strip().lower(), row["name"].strip())
    return table


register("person_name", PersonNameStep, "person-name casing", aliases=["name_case"])(
    value_step(lambda spec, ctx: person_case)
)


@register("split_name", SplitNameStep, "full name -> first and last name columns")
def _split_name(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, SplitNameStep)
    values = column_values(frame, ctx)
    parts, distinct = map_unique_columns(
        values, lambda v: split_full_name(v, spec.order), (spec.first, spec.last), ctx
    )
    outputs = {spec.first: parts[spec.first], spec.last: parts[spec.last]}
    return StepResult(values, outputs=outputs, unique_inputs=distinct)


@register("extract_salutation", ExtractSalutationStep, "salutations/titles out of a name")
def _extract(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, ExtractSalutationStep)
    titles = spec.titles_into is not None
    parts, distinct = map_unique_columns(
        column_values(frame, ctx),
        lambda v: extract_salutation(v, titles),
        ("name", "sal", "title"),
        ctx,
    )
    outputs = {spec.into: parts["sal"].alias(spec.into)}
    if spec.titles_into is not None:
        outputs[spec.titles_into] = parts["title"].alias(spec.titles_into)
    return StepResult(parts["name"].alias(ctx.column), outputs=outputs, unique_inputs=distinct)


def canonical_salutation(value: str) -> tuple[str | None, str | None]:
    """("Herr Dr", None) for "hr. dr."; the value itself and a reason when a word is unknown."""
    whole = _token_key(value.strip())
    if whole in _CANONICAL:
        return _CANONICAL[whole], None
    words = [_token_key(w) for w in value.split()]
    if words and all(w in _CANONICAL for w in words):
        return " ".join(_CANONICAL[w] for w in words), None
    return value, "unknown salutation"


@register("salutation", SalutationStep, "salutation column -> canonical spelling")
def _salutation(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    values, errors, distinct = map_unique_pairs(
        column_values(frame, ctx), canonical_salutation, ctx
    )
    return StepResult(values.alias(ctx.column), errors, unique_inputs=distinct)


def nickname_expr(value: pl.Expr) -> pl.Expr:
    """Replace the first word by the name it is a nickname of ("Bob Smith" -> "Robert Smith")."""
    parts = value.str.extract_groups(r"^(\S+)(.*)$")
    first, rest = parts.struct.field("1"), parts.struct.field("2")
    nicknames, names = _nickname_series()
    full = first.str.to_lowercase().replace_strict(nicknames, names, default=None)
    return pl.when(full.is_not_null()).then(pl.concat_str(full, rest)).otherwise(value)


@cache
def _nickname_series() -> tuple[pl.Series, pl.Series]:
    """nickname_table as two Series, made once (not converted again for every expression)."""
    table = nickname_table()
    return pl.Series(list(table), dtype=pl.String), pl.Series(table.values(), dtype=pl.String)


# one expression: the entry check's one record runs it inside its lazy plan
register_key("nickname", NicknameStep, "nickname -> full first name (Bob -> Robert)")(
    expr_step(lambda spec, ctx: nickname_expr(pl.col(ctx.column).cast(pl.String)))
)
