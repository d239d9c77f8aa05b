"""Deliberately bad values, as real customer files have them at a few percent.

Invalid e-mails, impossible or future birthdays, malformed postcodes, letters in phone numbers
and 'N/A'-style tokens. Which rows got which defect is returned too, so tests and benchmarks
can tell a planted defect from an honest value.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.synth.corrupt import update_rows
from crmclean.synth.render import per_row

NA_TOKENS = ("N/A", "n/a", "-", "NULL", "null", "none", "unknown", "?", "xxx", "k.A.", "", " ")
NA_COLUMNS = ("street", "city", "company", "email", "phone", "postcode", "date_of_birth")


def _email(s: pl.Expr) -> list[tuple[str, pl.Expr]]:
    return [
        ("invalid_email", s.str.replace("@", " at ", literal=True)),
        ("invalid_email", s.str.replace("@", "@@", literal=True)),
        ("invalid_email", s.str.replace(r"\.[^@]*$", "")),
        ("invalid_email", pl.concat_str(s.str.slice(0, 2), pl.lit(" "), s.str.slice(2))),
        ("invalid_email", s.str.replace(r"\.([A-Za-z]+)$", ",$1")),
        ("invalid_email", s.str.replace(r"^[^@]*", "")),
    ]


def _dob(s: pl.Expr) -> list[tuple[str, pl.Expr]]:
    year = s.str.extract(r"(\d{4})")
    later = (year.cast(pl.Int64, strict=False) % 70 + 2027).cast(pl.String)
    return [
        ("impossible_date", pl.concat_str(pl.lit("31.02."), year)),
        ("impossible_date", pl.concat_str(year, pl.lit("-02-30"))),
        ("impossible_date", pl.concat_str(year, pl.lit("-13-05"))),
        ("future_date", pl.concat_str(later, pl.lit("-04-11"))),
        ("placeholder_date", pl.lit("00.00.0000")),
        ("placeholder_date", pl.lit("1900-01-01")),
        ("two_digit_year", pl.concat_str(pl.lit("17.05."), year.str.slice(2))),
    ]


def _postcode(s: pl.Expr) -> list[tuple[str, pl.Expr]]:
    return [
        ("malformed_postcode", s.str.slice(0, s.str.len_chars() - 1)),
        ("malformed_postcode", pl.concat_str(s, pl.lit("7"))),
        ("malformed_postcode", s.str.replace(r"\d", "O")),
        ("malformed_postcode", pl.lit("00000")),
        ("malformed_postcode", s.str.replace(" ", "", literal=True).str.slice(0, 3)),
    ]


def _phone(s: pl.Expr) -> list[tuple[str, pl.Expr]]:
    return [
        ("letters_in_phone", s.str.replace(r"\d(\d)$", "O$1")),
        ("letters_in_phone", pl.concat_str(s, pl.lit(" (after 6pm)"))),
        ("letters_in_phone", pl.concat_str(pl.lit("Tel "), s, pl.lit(" oder mobil"))),
        ("short_phone", s.str.slice(0, 5)),
    ]


BAD_COLUMNS = {"email": _email, "date_of_birth": _dob, "postcode": _postcode, "phone": _phone}


def _plant(
    frame: pl.DataFrame, column: str, hit: np.ndarray, which: np.ndarray, exprs: list[pl.Expr]
) -> pl.DataFrame:
    """Replace the hit values by variant which[row] of exprs, evaluated on the hit rows only."""

    def planted(n: int) -> dict[str, pl.Expr]:
        chosen = per_row(which[hit], "_which")
        value = pl.col(column)
        for k, expr in enumerate(exprs):
            value = pl.when(chosen == k).then(expr).otherwise(value)
        return {column: value}

    return update_rows(frame, hit, planted)


def _log(rows: np.ndarray, column: str, kinds: pl.Series) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": pl.Series(rows, dtype=pl.Int64),
            "column": pl.repeat(column, len(rows), dtype=pl.String, eager=True),
            "kind": kinds.cast(pl.String),
        }
    )


def add_bad_values(
    frame: pl.DataFrame, share: float, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plant defects in `share` of the non-empty values per column; return (frame, defects).

    defects has one row per planted value: row (position in frame), column, kind.
    """
    n = frame.height
    logs = []
    for column, variants_of in BAD_COLUMNS.items():
        variants = variants_of(pl.col(column))
        hit = (rng.random(n) < share) & frame[column].is_not_null().to_numpy()
        which = rng.integers(0, len(variants), n)
        frame = _plant(frame, column, hit, which, [expr for _, expr in variants])
        rows = np.flatnonzero(hit)
        kinds = pl.Series([kind for kind, _ in variants]).gather(which[rows])
        logs.append(_log(rows, column, kinds))
    tokens = [pl.lit(token) for token in NA_TOKENS]
    for column in NA_COLUMNS:
        hit = rng.random(n) < share / 4
        frame = _plant(frame, column, hit, rng.integers(0, len(tokens), n), tokens)
        rows = np.flatnonzero(hit)
        logs.append(_log(rows, column, pl.repeat("na_token", len(rows), eager=True)))
    defects = pl.concat(logs)
    # A value hit twice keeps the later (N/A) defect only.
    return frame, defects.unique(["row", "column"], keep="last", maintain_order=True)
