"""Placeholder values: what a system or a clerk types when the real value is unknown.

`1970-01-01`, `test@test.com`, `+1 (000) 000-0000`, `00000` look like values, pass most checks
and make strangers look alike. A value is flagged when it is far more frequent than the column's
own distribution predicts AND its shape says "filler"; without such a shape a value must stand
out much further, in a column whose values are mostly different (an e-mail shared by hundreds).
Common first names and big cities are frequent by nature: their shape is ordinary and a column
of names or cities is not mostly different, so they are never flagged.

Also: blanks and null tokens are not values, so profile statistics are computed without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

CANDIDATES = 50  # commonest values per column that are tested
MIN_COUNT = 3  # a value seen once or twice is chance, whatever it looks like
SHAPE_RATIO = 3.0  # filler-shaped: at least this many times the typical count of a value
OUTLIER_RATIO = 20.0  # ordinary-looking: this many times the typical count ...
OUTLIER_HEAD = 5.0  # ... and this many times the 10th commonest value (no Zipf head)
OUTLIER_MIN_COUNT = 10
MOSTLY_DIFFERENT = 0.3  # distinct / present: identifier-like columns (e-mail, phone, birthday)
BATCH = 64  # columns per collect_all: a wide file's group-bys are not all held at once

PHONE_LIKE = r"^(?:\+|00|\()[0-9 ()./-]+$"
_SAME_DIGIT = "(?:" + "|".join(f"{d}+" for d in range(10)) + ")"
_FILLER_YEARS = r"(?:1900|1901|1899|1800|1111|1970|2999|9999|0001|0000)"
# Each reason: a regex over the stripped, lower-cased value ("one digit repeated" is built in
# _reason: the regex engine has no back-references).
SHAPES: dict[str, str] = {
    "placeholder word": r"^(?:n/?a|n\.a\.?|n\.v\.?|#n/a|k\.?\s?a\.?|keine angabe|keine|kein|"
    r"unknown|unbekannt|inconnu|desconocido|sconosciuto|onbekend|none|null|nil|nan|"
    r"not available|not applicable|missing|empty|blank|void|tbd|tba|test|testing|dummy|"
    r"sample|asdf|qwerty|mustermann|musterfrau|max mustermann|john doe|jane doe|"
    # not a lone letter but x (an initial is a first name) and not 0 (a count of orders)
    r"x+|y{2,}|z{2,}|a{3,}|\?+|-+|\.+|/+|\*+|_+|#+)$",
    "only punctuation": r"^[\p{P}\p{S}\s]+$",
    "digit run": r"(?:0123456|123456789|987654321)",
    "filler date": rf"^(?:{_FILLER_YEARS}[-/.]0?1[-/.]0?1|0?1[-/.]0?1[-/.]{_FILLER_YEARS}|"
    r"9999[-/.]12[-/.]31|31[-/.]12[-/.]9999|12/31/9999)(?:[t ]0{1,2}:00(?::00)?\S*)?$",
    "test e-mail": r"^[^@\s]+@(?:[^@\s]+\.)?(?:test|example|invalid|localhost|none|nomail|"
    r"noemail|no-email|dummy|fake|mailinator|keine|kein|no|x+|asdf|domain|email)\.[a-z.]+$|"
    r"^[^@\s]+@\S+\.(?:test|example|invalid|localhost)$|"
    r"^(?:test\d*|none|no-?reply|no-?mail|no-?email|dummy|fake|x+|asdf|keine?|unknown|"
    r"na|null|nobody|abc|a+|1+|123+)@",
}


@dataclass(frozen=True)
class Placeholder:
    value: str | None  # None never; masked (`***`) when the column is masked and shape is plain
    count: int
    share: float  # over all rows
    expected: float  # a typical value's count in this column (the median)
    reason: str  # which shape, or "far more frequent than chance"
    suggested: bool  # offered as a null token (never a masked value)


def as_missing(text: pl.DataFrame, null_tokens: Sequence[str]) -> pl.DataFrame:
    """Blanks and null tokens become null: they are not values in any statistic."""
    tokens = pl.Series([t.strip().lower() for t in null_tokens], dtype=pl.String).implode()
    return text.with_columns(
        pl.when(
            (key := pl.col(name).str.strip_chars()).str.len_chars().eq(0)
            | key.str.to_lowercase().is_in(tokens)
        )
        .then(None)
        .otherwise(pl.col(name))
        .alias(name)
        for name in text.columns
    )


def find_placeholders(
    text: pl.DataFrame, names: list[str], masked: set[str], measures: set[str]
) -> dict[str, list[Placeholder]]:
    """Per column the flagged values, commonest first. `masked`: columns shown masked;
    `measures`: numbers and timestamps, where one value may legitimately dominate (0 orders,
    the instant of a batch import): only filler shapes are flagged there."""
    found: dict[str, list[Placeholder]] = {}
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        results = pl.collect_all([_candidates(text.lazy(), name) for name in batch])
        for name, candidates in zip(batch, results, strict=True):
            outliers = name not in measures
            found[name] = _flagged(candidates, text.height, name in masked, outliers)
    return found


def _candidates(frame: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """The commonest values of one column with the column's typical count and spread."""
    return (
        frame.select(pl.col(name).alias("value"))
        .drop_nulls()
        .group_by("value")
        .agg(pl.len().alias("count"))
        .with_columns(
            pl.col("count").median().alias("expected"),
            (pl.len() / pl.col("count").sum()).alias("distinct_share"),
        )
        .top_k(CANDIDATES, by=["count", "value"], reverse=[False, True])
        .sort(["count", "value"], descending=[True, False])
        .with_columns(
            pl.col("count").get(min(9, CANDIDATES - 1), null_on_oob=True).alias("tenth"),
            _reason(pl.col("value")).alias("reason"),
        )
    )


def _reason(value: pl.Expr) -> pl.Expr:
    """The first filler shape a value has, or null: vectorised over the candidates."""
    key = value.str.strip_chars().str.to_lowercase()
    digits = key.str.replace_all(r"\D", "")
    letter_free = ~key.str.contains(r"\p{L}")
    one_digit = (
        letter_free
        & (digits.str.len_chars() >= 3)
        & (
            digits.str.contains(f"^{_SAME_DIGIT}$")
            # a phone's country code is not filler: +1 (000) 000-0000, +49 0000000
            | (
                key.str.contains(PHONE_LIKE)
                & (digits.str.len_chars() >= 7)
                & digits.str.slice(-7).str.contains(f"^{_SAME_DIGIT}$")
            )
        )
    )
    checks = {
        "placeholder word": key.str.contains(SHAPES["placeholder word"]),
        "only punctuation": key.str.contains(SHAPES["only punctuation"]),
        "one digit repeated": one_digit,
        "filler date": key.str.contains(SHAPES["filler date"]),
        "digit run": letter_free & key.str.contains(SHAPES["digit run"]),
        "test e-mail": key.str.contains(SHAPES["test e-mail"]),
    }
    reason = pl.lit(None, dtype=pl.String)
    for label, holds in reversed(checks.items()):
        reason = pl.when(holds).then(pl.lit(label)).otherwise(reason)
    return reason


def _flagged(
    candidates: pl.DataFrame, rows: int, masked: bool, outliers: bool
) -> list[Placeholder]:
    if candidates.is_empty():
        return []
    typical = pl.max_horizontal(pl.col("expected"), pl.lit(1.0))
    shaped = pl.col("reason").is_not_null() & (pl.col("count") >= SHAPE_RATIO * typical)
    outlier = (
        pl.lit(outliers)
        & (pl.col("distinct_share") >= MOSTLY_DIFFERENT)
        & (pl.col("count") >= OUTLIER_MIN_COUNT)
        & (pl.col("count") >= OUTLIER_RATIO * typical)
        & (pl.col("count") >= OUTLIER_HEAD * pl.col("tenth").fill_null(1))
    )
    hits = candidates.filter((pl.col("count") >= MIN_COUNT) & (shaped | outlier))
    out = []
    for row in hits.iter_rows(named=True):
        plain = row["reason"] is None
        hidden = plain and masked  # a shared real address stays masked, and is not suggested
        out.append(
            Placeholder(
                value="***" if hidden else row["value"],
                count=int(row["count"]),
                share=round(row["count"] / rows, 4) if rows else 0.0,
                expected=float(row["expected"]),
                reason=row["reason"] or "far more frequent than chance",
                suggested=not hidden,
            )
        )
    return out


def suggested_null_tokens(
    placeholders: Sequence[Placeholder], null_tokens: Sequence[str]
) -> list[str]:
    """The null tokens in use plus the flagged values, each once (null tokens ignore case)."""
    tokens = list(null_tokens)
    seen = {t.strip().lower() for t in tokens}
    for found in placeholders:
        key = (found.value or "").strip().lower()
        if found.suggested and key and key not in seen:
            seen.add(key)
            tokens.append((found.value or "").strip())
    return tokens


def with_null_tokens(
    rules: dict[str, Any], placeholders: Sequence[Placeholder], null_tokens: Sequence[str]
) -> dict[str, Any]:
    """Suggested rules with `dataset.null_tokens` when the profile found placeholders."""
    tokens = suggested_null_tokens(placeholders, null_tokens)
    if len(tokens) == len(null_tokens):
        return rules
    dataset = {**rules.get("dataset", {}), "null_tokens": tokens}
    return {"dataset": dataset, **{k: v for k, v in rules.items() if k != "dataset"}}
