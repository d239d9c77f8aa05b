"""Word-set keys for token blocking: the words of a name, the names an e-mail address spells,
and the unordered pairs of those words.

A blocking rule that lists such a column under `any_word:` puts a record into one block per
word, so two records meet when they share any one word (with the rule's other columns): the
first name survives a new surname, the surname a nickname, and a newsletter sign-up that holds
only "Jessica" and jsmith@sky.com meets "Jessica Smith" through the "smith" its address spells.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.standardise.base import (
    StepContext,
    StepResult,
    StepSpec,
    column_values,
    register_key,
)
from crmclean.core.standardise.keys import ascii_expr

_MIN_PIECE = 3  # an e-mail piece shorter than this is an initial or noise, not a name


class NameWordsStep(StepSpec):
    """The words of a name, and of any e-mail address in the value, as a sorted word set.

    Derive it from the names and the e-mail together (`from: [first_name_key, last_name_key,
    email]`): words without "@" are name words (ASCII, lower case, letters only, split at
    spaces and hyphens, two letters or more); an e-mail address adds the words of its local part
    (split at . _ -, digits and a +tag dropped) and, where such a word starts or ends with a
    name word or its initial, the rest of it: "jsmith" beside the first name "Jessica" gives
    "smith", "hendrikjansen68" beside "Hendrik" gives "jansen".
    """

    type: Literal["name_words"] = "name_words"
    max_words: int = Field(8, ge=1, le=32, description="Keep at most this many words")


class WordPairsStep(StepSpec):
    """Every unordered pair of two different words, "a+b" with a < b, space-separated: with
    `any_word:` two records meet when any two of their words agree, in any order (first and
    last name swapped, a third given name, a surname spelt from the e-mail)."""

    type: Literal["word_pairs"] = "word_pairs"
    max_words: int = Field(6, ge=2, le=16, description="Pair only the first this many words")


def _letters(value: pl.Expr) -> pl.Expr:
    return ascii_expr(value.str.to_lowercase()).str.replace_all(r"[^a-z]", "")


def name_words(values: pl.Series, max_words: int = 8) -> pl.Series:
    """`NameWordsStep` over a String series, computed once per distinct value."""
    distinct = values.drop_nulls().unique().to_frame("_v").with_row_index("_i")
    tokens = distinct.select("_i", pl.col("_v").str.split(" ").alias("_t")).explode("_t")
    is_email = pl.col("_t").str.contains("@", literal=True)
    names = (
        tokens.filter(~is_email)
        .select("_i", pl.col("_t").str.split("-").alias("_w"))
        .explode("_w")
        .select("_i", _letters(pl.col("_w")).alias("_w"))
        .filter(pl.col("_w").str.len_chars() >= 1)  # an initial strips, but is no word
    )
    local = pl.col("_t").str.to_lowercase().str.extract(r"^([^+@]*)", 1)
    email_words = (
        tokens.filter(is_email)
        .select("_i", local.alias("_l"))
        .select("_i", pl.col("_l").str.replace_all(r"[._\-]+", " ").str.split(" ").alias("_e"))
        .explode("_e")
        .select("_i", _letters(pl.col("_e")).alias("_e"))
        .filter(pl.col("_e").str.len_chars() >= 2)
    )
    beside = email_words.join(names.rename({"_w": "_n"}), on="_i")
    e, n = pl.col("_e"), pl.col("_n")
    initial = n.str.slice(0, 1)
    starts, ends = e.str.starts_with(n), e.str.ends_with(n)
    rest = e.str.len_chars().cast(pl.Int64) - n.str.len_chars().cast(pl.Int64)
    pieces = pl.concat_list(
        pl.when(starts).then(e.str.slice(n.str.len_chars())),
        pl.when(ends).then(e.str.head(rest)),
        pl.when(~starts & e.str.starts_with(initial)).then(e.str.slice(1)),
        pl.when(~ends & e.str.ends_with(initial)).then(e.str.head(-1)),
    )
    stripped = beside.select("_i", pieces.alias("_w")).explode("_w")
    words = (
        pl.concat(
            [names, email_words.rename({"_e": "_w"}), stripped.select("_i", "_w")],
            how="vertical",
        )
        .filter(pl.col("_w").is_not_null() & (pl.col("_w").str.len_chars() >= 2))
        .unique()
    )
    # a name word counts from two letters (Li, Ng); a piece of an address only from three
    known = names.unique().with_columns(pl.lit(True).alias("_name"))
    words = words.join(known, on=["_i", "_w"], how="left").filter(
        pl.col("_name").fill_null(False) | (pl.col("_w").str.len_chars() >= _MIN_PIECE)
    )
    joined = words.group_by("_i").agg(
        pl.col("_w").sort().head(max_words).str.join(" ").alias("_out")
    )
    table = distinct.join(joined, on="_i", how="left").select("_v", "_out")
    out = values.to_frame("_v").join(table, on="_v", how="left", maintain_order="left")
    return out.get_column("_out").alias(values.name)


def word_pairs(values: pl.Series, max_words: int = 6) -> pl.Series:
    """`WordPairsStep` over a String series, computed once per distinct value."""
    distinct = values.drop_nulls().unique().to_frame("_v").with_row_index("_i")
    words = (
        distinct.select(
            "_i",
            pl.col("_v")
            .str.split(" ")
            .list.eval(pl.element().filter(pl.element() != ""))
            .alias("_w"),
        )
        .with_columns(pl.col("_w").list.unique().list.sort().list.head(max_words))
        .explode("_w")
        .drop_nulls("_w")
    )
    pairs = (
        words.join(words, on="_i", suffix="_r")
        .filter(pl.col("_w") < pl.col("_w_r"))
        .group_by("_i")
        .agg(pl.concat_str("_w", "_w_r", separator="+").sort().str.join(" ").alias("_out"))
    )
    table = distinct.join(pairs, on="_i", how="left").select("_v", "_out")
    out = values.to_frame("_v").join(table, on="_v", how="left", maintain_order="left")
    return out.get_column("_out").alias(values.name)


def _name_words_step(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    return StepResult(name_words(column_values(frame, ctx), spec.max_words))  # type: ignore[attr-defined]


def _word_pairs_step(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    return StepResult(word_pairs(column_values(frame, ctx), spec.max_words))  # type: ignore[attr-defined]


register_key(
    "name_words",
    NameWordsStep,
    "words of the names and the names an e-mail address spells (for any_word blocking)",
)(_name_words_step)
register_key("word_pairs", WordPairsStep, "unordered pairs of words (for any_word blocking)")(
    _word_pairs_step
)

__all__ = ["name_words", "word_pairs"]
