"""Nickname resolution for the `nickname` comparison level: Bob -> robert, Sepp -> josef.

Uses the project's nickname table (core/data/nicknames.csv, shared with the `nickname` derive
step) so a level and a derived `first_name_key` always agree.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from crmclean.core.standardise.names import nickname_table


@cache
def _lower_table() -> dict[str, str]:
    return {nick: name.lower() for nick, name in nickname_table().items()}


def resolve_nicknames(series: pl.Series) -> pl.Series:
    """Lower-cased, trimmed names with known short forms replaced by the full name."""
    names = series.cast(pl.String).str.strip_chars().str.to_lowercase()
    return names.replace(_lower_table())
