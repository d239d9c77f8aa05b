"""Profile a customer table: per column how full, how varied, what shape and what it looks like.

Exact figures (nulls, distinct values, lengths, top values) come from the whole frame in one
pass of polars expressions; value shapes and the semantic type come from a seeded sample, since
a regex over a million e-mail addresses tells nothing a hundred thousand would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from crmclean.core.checks.country_valid import country_keys
from crmclean.core.contracts import RECORD_ID
from crmclean.core.masking import cap_expr, kind_for, mask_series
from crmclean.core.profile.model import ColumnProfile, Profile, ValueCount
from crmclean.core.profile.placeholders import (
    as_missing,
    find_placeholders,
    with_null_tokens,
)
from crmclean.core.profile.suggest import suggest_rules
from crmclean.core.standardise.base import DEFAULT_NULL_TOKENS

SHAPE_MAX = 24  # longer shapes (free text) are cut: they identify no format anyway
CHUNK_CELLS = 2_000_000  # cells per long frame when a wide table's value counts are batched
QUERY_BATCH = 32  # tall tables: per-column queries run this many at a time
TALL_ROWS = 100_000  # above this, value counts run per column (top_k, no sort of all values)
SHAPE_SAMPLE_ROWS = 20_000  # shapes cost several unicode regexes per distinct value
TYPE_SHARE = 0.9  # share of sampled values that must look like a type to call the column so
HINT_SHARE = 0.8  # ... when the column's name already suggests the type

# Checked in this order; the first type most sampled values match wins.
PATTERNS: dict[str, str] = {
    "email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    "date": r"^(?:\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?\S*)?|"
    r"\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4}))$",
    "boolean": r"(?i)^(?:true|false|yes|no|y|n|t|f|ja|nein|wahr|falsch)$",
    "phone": r"^(?:\+|00)[1-9][0-9 ()./-]{6,20}[0-9]$|^0[0-9]{2,5}[ /-][0-9 /-]{3,12}[0-9]$",
    "integer": r"^[+-]?(?:0|[1-9][0-9]{0,17})$",
    "decimal": r"^[+-]?[0-9]+[.,][0-9]+$",
    "postcode": r"(?i)^(?:[0-9]{4,5}|[0-9]{3}-[0-9]{4}|[0-9]{4} ?[A-Z]{2}|"
    r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}|[0-9]{2}-[0-9]{3})$",
}
# A telling column name lets a looser pattern decide (0301234567 is a phone in a `phone` column).
NAME_HINTS: dict[str, str] = {
    "email": r"e.?mail",
    "phone": r"phone|tel|mobil|handy|fax",
    "postcode": r"plz|zip|post.?code|postal",
    "country": r"country|land|nation",
    "date": r"date|datum|birth|geburt|_at$|_on$",
}
TIME_OF_DAY = r"[T ]\d{1,2}:\d{2}"  # a date column where most values carry one is a datetime
LOOSE: dict[str, str] = {
    "phone": r"^\+?[0-9][0-9 ()./-]{4,22}[0-9]$",
    "postcode": r"(?i)^[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]$",
}


def profile_frame(
    frame: pl.DataFrame,
    *,
    top: int = 5,
    pii_columns: frozenset[str] | None = None,
    show_values: bool = False,
    sample_rows: int = 50_000,
    seed: int = 0,
    null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS,
) -> Profile:
    """Profile every column but record_id. `pii_columns` None: personal columns are guessed.
    Blanks and `null_tokens` count as missing; placeholders are flagged and suggested as such."""
    names = [c for c in frame.columns if c != RECORD_ID]
    text = as_missing(frame.select(pl.col(names).cast(pl.String)), null_tokens)
    sample = _sample(text, sample_rows, seed)
    shape_sample = _sample(sample, min(sample_rows, SHAPE_SAMPLE_ROWS), seed)
    stats = _stats(text, names)
    counted = _value_counts(text, names, top)
    types = _semantic_types(sample, names)
    shapes = _shapes_all(shape_sample, names, top)
    masked_names = {n for n in names if not show_values and _pii(n, types[n][0], pii_columns)}
    measures = {n for n in names if types[n][0] in ("datetime", "integer", "decimal", "boolean")}
    placeholders = find_placeholders(text, names, masked_names, measures)
    columns = []
    for name in names:  # a loop over columns; each step inside is vectorised
        semantic, share = types[name]
        pii = _pii(name, semantic, pii_columns)
        masked = pii and not show_values
        distinct, top_counts = counted[name]
        columns.append(
            ColumnProfile(
                name=name,
                nulls=stats[f"{name}\x00nulls"],
                null_share=_share(stats[f"{name}\x00nulls"], text.height),
                distinct=distinct,
                min_length=stats[f"{name}\x00min"],
                max_length=stats[f"{name}\x00max"],
                top_values=_top_values(top_counts, name, text.height, masked, semantic),
                shapes=shapes[name],
                semantic_type=semantic,
                type_share=share,
                pii=pii,
                masked=masked,
                placeholders=placeholders[name],
            )
        )
    found = [p for column in columns for p in column.placeholders]
    rules = with_null_tokens(suggest_rules(columns, frame.height), found, null_tokens)
    return Profile(frame.height, sample.height, shape_sample.height, columns, rules)


def _sample(frame: pl.DataFrame, rows: int, seed: int) -> pl.DataFrame:
    return frame.sample(rows, seed=seed) if frame.height > rows else frame


def _stats(text: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """Nulls and lengths of every column in one select."""
    if not names:
        return {}
    exprs = []
    for name in names:
        length = pl.col(name).str.len_chars()
        exprs += [
            pl.col(name).null_count().alias(f"{name}\x00nulls"),
            length.min().alias(f"{name}\x00min"),
            length.max().alias(f"{name}\x00max"),
        ]
    return text.select(exprs).row(0, named=True)


def _value_counts(
    text: pl.DataFrame, names: list[str], top: int
) -> dict[str, tuple[int, pl.DataFrame]]:
    """Per column: the number of distinct values and the `top` commonest (ties by value).

    Tall frames (over TALL_ROWS): one group-by per column, QUERY_BATCH at a time; top_k avoids
    sorting a million distinct ids. Other frames: columns in chunks of about CHUNK_CELLS cells,
    each chunk one long (column, value) frame and one group-by, so 5,000 columns cost 5,000 x
    rows cells, not 5,000 concurrent queries (which grew past 13 GB).
    """
    out: dict[str, tuple[int, pl.DataFrame]] = {}
    if text.height > TALL_ROWS:
        for start in range(0, len(names), QUERY_BATCH):
            out.update(_counts_each(text, names[start : start + QUERY_BATCH], top))
        return out
    for chunk in _chunks(names, text.height):
        out.update(_counts_long(text, chunk, top))
    return out


def _counts_each(
    text: pl.DataFrame, names: list[str], top: int
) -> dict[str, tuple[int, pl.DataFrame]]:
    queries = [
        text.lazy()
        .select(pl.col(name).drop_nulls())
        .group_by(name)
        .agg(pl.len().alias("count"))
        .with_columns(pl.len().alias("distinct"))
        .top_k(top, by=["count", name], reverse=[False, True])
        .sort(["count", name], descending=[True, False])
        for name in names
    ]
    results = pl.collect_all(queries)
    return {
        name: (int(found.get_column("distinct")[0]) if found.height else 0, found)
        for name, found in zip(names, results, strict=True)
    }


def _counts_long(
    text: pl.DataFrame, names: list[str], top: int
) -> dict[str, tuple[int, pl.DataFrame]]:
    counts = _long(text, names).group_by(_COLUMN, _VALUE).agg(pl.len().alias("count"))
    distinct = dict(counts.group_by(_COLUMN).agg(pl.len()).iter_rows())
    heads = (
        counts.sort([_COLUMN, "count", _VALUE], descending=[False, True, False])
        .group_by(_COLUMN, maintain_order=True)
        .head(top)
        .partition_by(_COLUMN, as_dict=True, include_key=False)
    )
    empty = pl.DataFrame(schema={_VALUE: pl.String, "count": pl.UInt32})
    return {
        name: (int(distinct.get(name, 0)), heads.get((name,), empty).rename({_VALUE: name}))
        for name in names
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _top_values(
    counts: pl.DataFrame, name: str, rows: int, masked: bool, semantic: str | None
) -> list[ValueCount]:
    values = counts.get_column(name)
    if masked:
        values = mask_series(values, kind_for(name, semantic or "string"))
    values = pl.select(cap_expr(pl.lit(values))).to_series()
    return [
        ValueCount(value, int(count), _share(int(count), rows))
        for value, count in zip(values.to_list(), counts.get_column("count").to_list(), strict=True)
    ]


def shape_expr(value: pl.Expr) -> pl.Expr:
    """`Berlin 10115` -> `Aa+ 9+`: letters A/a, digits 9, runs of one class collapsed to X+."""
    masked = (
        value.str.replace_all(r"\p{Lu}", "A")
        .str.replace_all(r"[\p{Ll}\p{Lt}\p{Lm}\p{Lo}]", "a")
        .str.replace_all(r"\p{Nd}", "9")
        .str.replace_all(r"\s+", " ")
    )
    for ch in "Aa9":
        masked = masked.str.replace_all(f"{ch}{{2,}}", f"{ch}+")
    cut = masked.str.slice(0, SHAPE_MAX)
    return pl.when(masked.str.len_chars() > SHAPE_MAX).then(cut + "…").otherwise(masked)


def _shapes_all(sample: pl.DataFrame, names: list[str], top: int) -> dict[str, list[ValueCount]]:
    """The commonest shapes per column, worked out once per distinct value and weighted by its
    count; columns go in chunks of one long (column, value) frame each."""
    out: dict[str, list[ValueCount]] = {name: [] for name in names}
    for chunk in _chunks(names, sample.height):
        distinct = _long(sample, chunk).group_by(_COLUMN, _VALUE).agg(pl.len().alias("count"))
        totals = dict(distinct.group_by(_COLUMN).agg(pl.col("count").sum()).iter_rows())
        shapes = (
            distinct.group_by(_COLUMN, shape_expr(pl.col(_VALUE)).alias("shape"))
            .agg(pl.col("count").sum())
            .sort([_COLUMN, "count", "shape"], descending=[False, True, False])
            .group_by(_COLUMN, maintain_order=True)
            .head(top)
        )
        for name, shape, count in shapes.iter_rows():
            total = int(totals[name])
            out[name].append(ValueCount(shape, int(count), _share(int(count), total)))
    return out


def _chunks(names: list[str], height: int) -> list[list[str]]:
    """Columns in groups of about CHUNK_CELLS cells: a wide table never becomes one huge query."""
    width = max(1, CHUNK_CELLS // max(height, 1))
    return [names[start : start + width] for start in range(0, len(names), width)]


_COLUMN, _VALUE = "\x00column", "\x00value"


def _long(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """(column, value) rows of the non-null values of `names`."""
    return (
        frame.select(names)
        .unpivot(on=names, variable_name=_COLUMN, value_name=_VALUE)
        .drop_nulls(_VALUE)
    )


def _semantic_types(sample: pl.DataFrame, names: list[str]) -> dict[str, tuple[str | None, float]]:
    """Share of non-null sampled values matching each type's pattern: per chunk of columns one
    group-by over the long (column, value) frame, so the expressions do not grow with the width."""
    countries = country_keys().get_column("key")
    kinds = {**PATTERNS, **{f"loose_{k}": v for k, v in LOOSE.items()}, "time": TIME_OF_DAY}
    value = pl.col(_VALUE).str.strip_chars()
    exprs = [value.str.contains(p).mean().alias(k) for k, p in kinds.items()]
    exprs.append(value.str.to_lowercase().is_in(countries.implode()).mean().alias("country"))
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(names, sample.height):
        for row in _long(sample, chunk).group_by(_COLUMN).agg(exprs).iter_rows(named=True):
            found[row.pop(_COLUMN)] = row
    return {name: _pick_type(name, found.get(name, {})) for name in names}


def _pick_type(name: str, row: dict[str, Any]) -> tuple[str | None, float]:
    def share(kind: str) -> float:
        return float(row.get(kind) or 0.0)

    kind, found = _by_name(name, share) or _by_values(share)
    if kind == "date" and share("time") >= 0.5:
        kind = "datetime"
    return kind, round(found, 4)


def _by_name(name: str, share: Callable[[str], float]) -> tuple[str, float] | None:
    lowered = name.lower()
    for kind, hint in NAME_HINTS.items():
        best = max(share(kind), share(f"loose_{kind}"))
        if re.search(hint, lowered) and best >= HINT_SHARE:
            return kind, best
    return None


def _by_values(share: Callable[[str], float]) -> tuple[str | None, float]:
    for kind in [*PATTERNS, "country"]:
        if share(kind) >= TYPE_SHARE:
            return kind, share(kind)
    return None, 0.0


_PII_NAMES = re.compile(
    r"name|vorname|first|last|surname|street|strasse|straße|address|adresse|birth|geburt|"
    r"iban|mail|phone|tel|mobil|handy|fax"
)


def _pii(name: str, semantic: str | None, pii_columns: frozenset[str] | None) -> bool:
    return _is_pii(name, semantic) if pii_columns is None else name in pii_columns


def _is_pii(name: str, semantic: str | None) -> bool:
    """Without a rule file, mask what looks personal: better one masked value too many."""
    return semantic in ("email", "phone") or bool(_PII_NAMES.search(name.lower()))
