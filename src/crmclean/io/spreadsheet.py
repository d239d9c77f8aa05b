"""Neutralise spreadsheet formula injection (CSV/Excel "CSV injection") in text cells.

A cell that starts with = + - @ tab or CR may run as a formula when a steward opens the export in
a spreadsheet; a leading apostrophe makes it text. Two kinds of value are left intact because no
formula can hide in them: plain numbers (-12.5) and E.164 phone numbers (+4930123456), which
writers quote instead so the + survives.
"""

from __future__ import annotations

import re

import polars as pl

DANGEROUS_START = r"^[=+\-@\t\r]"
E164 = r"^\+[1-9][0-9]{6,14}$"
PLAIN_NUMBER = r"^-?[0-9]+(?:[.,][0-9]+)?$"

_DANGEROUS = re.compile(DANGEROUS_START)
_SAFE = re.compile(f"{E164}|{PLAIN_NUMBER}")


def is_e164(value: pl.Expr) -> pl.Expr:
    """True for an E.164 phone number such as +4930123456."""
    return value.str.contains(E164)


def needs_neutralising(value: pl.Expr) -> pl.Expr:
    return value.str.contains(DANGEROUS_START) & ~value.str.contains(f"{E164}|{PLAIN_NUMBER}")


def neutralise(value: pl.Expr) -> pl.Expr:
    """The value with a leading apostrophe where it could start a formula; nulls stay null."""
    return pl.when(needs_neutralising(value)).then(pl.lit("'") + value).otherwise(value)


def neutralise_text(value: str) -> str:
    """The same rule for one string (HTML and JSON reporters, headers)."""
    if _DANGEROUS.match(value) and not _SAFE.match(value):
        return "'" + value
    return value
