"""Text changes for the Faker yardstick as polars expressions: ASCII folding, nicknames, typos."""

from __future__ import annotations

import numpy as np
import polars as pl
from faker_pools import NICKNAMES

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"), dtype=object)


def ascii_folded(name: pl.Expr) -> pl.Expr:
    """Lower-case ASCII letters only, as people write names into e-mail addresses."""
    return (
        name.str.to_lowercase()
        .str.replace_many(["ß", "ä", "ö", "ü"], ["ss", "ae", "oe", "ue"])
        .str.normalize("NFKD")
        .str.replace_all(r"[^a-z]", "")
    )


def familiar_names(first: pl.Expr) -> pl.Expr:
    """The nickname of a given name, else its first four letters when it is long (Maxi)."""
    known = first.replace_strict(NICKNAMES, default=None)
    return (
        pl.when(known.is_not_null())
        .then(known)
        .when(first.str.len_chars() >= 7)
        .then(first.str.slice(0, 4))
        .otherwise(first)
    )


def typo(text: pl.Expr, rng: np.random.Generator, n: int) -> pl.Expr:
    """One keyboard slip per value: a letter dropped, replaced, doubled or two transposed."""
    op = pl.Series(rng.integers(0, 4, size=n))
    length = text.str.len_chars()
    pos = (pl.Series(rng.random(n)) * (length - 1).clip(lower_bound=1)).floor().cast(pl.Int64)
    letter = pl.Series(LETTERS[rng.integers(len(LETTERS), size=n)].astype(str))
    head, here = text.str.slice(0, pos), text.str.slice(pos, 1)
    after, tail = text.str.slice(pos + 1, 1), text.str.slice(pos + 2)
    return (
        pl.when(length < 3)
        .then(text)
        .when(op == 0)
        .then(head + after + tail)
        .when(op == 1)
        .then(head + letter + after + tail)
        .when(op == 2)
        .then(head + after + here + tail)
        .otherwise(head + here + here + after + tail)
    )
