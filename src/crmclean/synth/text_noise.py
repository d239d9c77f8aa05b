"""Corruptions of rendered strings: typos, transliteration, abbreviations, case, blanks, gaps.

Same contract as corrupt.py: (frame, mask, rng, tables) -> frame, whole-column expressions.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.synth.corrupt import Noise, update_rows, when_rows
from crmclean.synth.render import per_row
from crmclean.synth.tables import (
    STREET_ABBREVIATIONS,
    TRANSLIT_EXPAND,
    TRANSLIT_STRIP,
    Tables,
)

_KEYBOARD = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
    "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfer", "f": "dgrt", "g": "fhty",
    "h": "gjyu", "j": "hkui", "k": "jlio", "l": "kop", "z": "asx", "x": "zcs", "c": "xvd",
    "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}  # fmt: skip
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
LEGAL_FORM_VARIANTS = {
    "GmbH & Co. KG": "GmbH u. Co. KG",
    "GmbH": "Gmbh",
    "Limited": "Ltd.",
    "Ltd": "Limited",
    "Inc.": "Inc",
    "B.V.": "BV",
    "S.r.l.": "Srl",
    "S.L.": "SL",
    " & ": " und ",
}
# Columns a typo can land in, and how often.
TYPO_COLUMNS = (
    ("first_name", 0.3),
    ("last_name", 0.3),
    ("street", 0.15),
    ("city", 0.1),
    ("email", 0.15),
)
NAME_LIKE = ("first_name", "last_name", "street", "city")


def _pick_column(
    rng: np.random.Generator, n: int, weights: tuple[tuple[str, float], ...]
) -> np.ndarray:
    p = np.array([w for _, w in weights])
    return rng.choice(len(weights), size=n, p=p / p.sum())


def _typo(s: pl.Expr, rng: np.random.Generator, n: int) -> pl.Expr:
    """Insert, delete, substitute (a keyboard neighbour) or transpose one character."""
    length = s.str.len_chars()
    pos = (per_row(rng.random(n), "_u") * (length - 1).clip(0)).floor().cast(pl.Int64)
    op = per_row(rng.integers(0, 4, n), "_op")
    pick = per_row(rng.integers(0, 4, n), "_k")
    here = s.str.slice(pos, 1)
    near = here.str.to_lowercase().replace_strict(_KEYBOARD, default="e")
    neighbour = near.str.slice(pick % near.str.len_chars(), 1)
    head, rest = s.str.slice(0, pos), s.str.slice(pos + 1)
    return (
        pl.when(op == 0)
        .then(
            pl.concat_str(head, per_row(_LETTERS[rng.integers(0, 26, n)], "_c"), s.str.slice(pos))
        )
        .when(op == 1)
        .then(pl.concat_str(head, rest))
        .when(op == 2)
        .then(pl.concat_str(head, neighbour, rest))
        .otherwise(pl.concat_str(head, s.str.slice(pos + 1, 1), here, s.str.slice(pos + 2)))
    )


def typo(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    where = _pick_column(rng, frame.height, TYPO_COLUMNS)
    for k, (name, _) in enumerate(TYPO_COLUMNS):

        def typed(n: int, name: str = name) -> dict[str, pl.Expr]:
            if name != "email":
                return {name: _typo(pl.col(name), rng, n)}
            # Typos stay in the local part: an address without '@' is a planted defect's job.
            local, domain = pl.col(name).str.extract(r"^(.*)@"), pl.col(name).str.extract(r"(@.*)$")
            return {name: pl.concat_str(_typo(local, rng, n), domain)}

        frame = update_rows(frame, mask & (where == k), typed)
    return frame


def transliterate(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Müller -> Mueller or Muller, Søren -> Soeren, Ñúñez -> Nunez: whole record, one style."""

    def spelled(n: int) -> dict[str, pl.Expr]:
        expand = per_row(rng.random(n) < 0.6, "_expand")
        return {
            c: pl.when(expand)
            .then(pl.col(c).str.replace_many(TRANSLIT_EXPAND))
            .otherwise(pl.col(c).str.replace_many(TRANSLIT_STRIP))
            for c in NAME_LIKE
        }

    return update_rows(frame, mask, spelled)


def abbreviate(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Straße -> Str., Street -> St, GmbH & Co. KG -> GmbH u. Co. KG."""
    return frame.with_columns(
        when_rows(mask, pl.col("street").str.replace_many(STREET_ABBREVIATIONS), "street"),
        when_rows(mask, pl.col("company").str.replace_many(LEGAL_FORM_VARIANTS), "company"),
    )


def case(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """One field in UPPER or lower case (old mainframe exports, hasty typing)."""
    where = rng.integers(0, len(NAME_LIKE), frame.height)
    for k, c in enumerate(NAME_LIKE):

        def cased(n: int, c: str = c) -> dict[str, pl.Expr]:
            upper = per_row(rng.random(n) < 0.6, "_upper")
            s = pl.col(c)
            return {c: pl.when(upper).then(s.str.to_uppercase()).otherwise(s.str.to_lowercase())}

        frame = update_rows(frame, mask & (where == k), cased)
    return frame


def whitespace(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Leading or trailing blanks, or a doubled blank inside a field."""
    where = rng.integers(0, len(NAME_LIKE), frame.height)
    for k, c in enumerate(NAME_LIKE):

        def padded(n: int, c: str = c) -> dict[str, pl.Expr]:
            how, s = per_row(rng.integers(0, 3, n), "_how"), pl.col(c)
            return {
                c: pl.when(how == 0)
                .then(pl.concat_str(pl.lit(" "), s))
                .when(how == 1)
                .then(pl.concat_str(s, pl.lit("  ")))
                .otherwise(s.str.replace(" ", "  ", literal=True))
            }

        frame = update_rows(frame, mask & (where == k), padded)
    return frame


def swap_names(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """First and last name entered the wrong way round."""
    return frame.with_columns(
        when_rows(mask, pl.col("last_name"), "first_name"),
        when_rows(mask, pl.col("first_name"), "last_name"),
    )


MISSABLE = (
    ("email", 0.2),
    ("phone", 0.2),
    ("date_of_birth", 0.2),
    ("salutation", 0.1),
    ("street", 0.1),
    ("postcode", 0.08),
    ("company", 0.07),
    ("city", 0.05),
)


def missing(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """One or two fields left empty."""
    n = frame.height
    first, second = _pick_column(rng, n, MISSABLE), _pick_column(rng, n, MISSABLE)
    two = rng.random(n) < 0.3
    return frame.with_columns(
        when_rows(mask & ((first == k) | (two & (second == k))), pl.lit(None, pl.String), c)
        for k, (c, _) in enumerate(MISSABLE)
    )


TEXT_NOISE = (
    Noise("transliterate", transliterate, 0.25, 0.03),
    Noise("abbreviate", abbreviate, 0.3, 0.08),
    Noise("typo", typo, 0.5, 0.02),
    Noise("case", case, 0.15, 0.03),
    Noise("whitespace", whitespace, 0.15, 0.03),
    Noise("swap_names", swap_names, 0.04, 0.004),
    Noise("missing", missing, 0.25, 0.06),
)


# Fields each source system often leaves empty: a webshop rarely asks for the birthday,
# an ERP keeps the billing contact without a private e-mail.
SOURCE_GAPS: dict[str, dict[str, float]] = {
    "crm": {"date_of_birth": 0.2, "phone": 0.08, "email": 0.05},
    "erp": {"date_of_birth": 0.35, "email": 0.15, "salutation": 0.05},
    "webshop": {"date_of_birth": 0.5, "salutation": 0.3, "phone": 0.25},
}


def source_gaps(
    frame: pl.DataFrame,
    rng: np.random.Generator,
    source_gaps: dict[str, dict[str, float]] = SOURCE_GAPS,
) -> pl.DataFrame:
    """Empty the fields a record's source system tends not to capture."""
    source = frame["source_system"].to_numpy()
    columns = sorted({c for gaps in source_gaps.values() for c in gaps})
    exprs = []
    for column in columns:
        odds = np.zeros(frame.height)
        for name, gaps in source_gaps.items():
            odds[source == name] = gaps.get(column, 0.0)
        gap = rng.random(frame.height) < odds
        exprs.append(when_rows(gap, pl.lit(None, pl.String), column))
    return frame.with_columns(exprs)
