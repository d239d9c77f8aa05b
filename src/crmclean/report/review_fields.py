"""What the full-screen review shows of one pair, as plain rows: per field the two values (masked
unless --show-values), whether they agree (same / similar / different / missing: judged on the
real values, so it shows even when both read `S***`), and each comparison's weight, the prior and
their sum, the match weight. Also the order of the queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import polars as pl
from rapidfuzz.distance import JaroWinkler

from crmclean.report.review_console import comparison_names, value_columns
from crmclean.report.value_mask import Masker

INVALID = "invalid"  # both records hold a value the comparison could not use (cleaned to empty)
SIMILAR = 0.85  # Jaro-Winkler similarity above which two different values read as similar
SHOWN = 24  # characters of a value at most, on a wide screen
PADDING = 10  # a DataTable pads each of the 5 columns by one character on either side
AGREE_WIDTH, WEIGHT_WIDTH = len("different"), len("+12.34")


class Order(StrEnum):
    uncertainty = "uncertainty"  # match probability nearest 0.5 first
    value = "value"  # the customer's value first (--value-column)
    queue = "queue"  # as the run wrote it


@dataclass(frozen=True)
class FieldRow:
    field: str
    left: str
    right: str
    agreement: str  # same | similar | different | missing | ""
    level: str  # the comparison level's label ("" for a column no comparison scores)
    weight: float | None  # log2 Bayes factor; None for a column no comparison scores


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def value_agreement(left: Any, right: Any) -> str:
    a, b = _text(left), _text(right)
    if a is None or b is None:
        return "missing"
    if a == b:
        return "same"
    if (
        a.casefold() == b.casefold()
        or JaroWinkler.similarity(a.casefold(), b.casefold()) >= SIMILAR
    ):
        return "similar"
    return "different"


def level_agreement(gamma: int | None, top: int | None) -> str:
    """A comparison's level as a word: the top level agrees, level 0 (else) does not."""
    if gamma is None:
        return ""
    if gamma < 0:
        return "missing"
    if top is not None and gamma >= top:
        return "same"
    return "different" if gamma == 0 else "similar"


CLUSTER_VALUES = 3  # values per record in the golden records around a pair (80 columns)


def cluster_columns(columns: Sequence[str]) -> list[str]:
    """The columns shown for each record around a pair: those the comparisons score (what a
    steward compares), first few."""
    shown = value_columns(columns)
    scored = [c for c in comparison_names(columns) if c in shown]
    return scored[:CLUSTER_VALUES]


SCROLLBAR = 2  # the fields table's vertical scrollbar, shown when the fields run below the fold


def value_width(pair: Mapping[str, Any], screen: int) -> int:
    """How many characters of each value fit beside the field name, the agreement and the
    weight on a screen `screen` columns wide (so the weight is never scrolled off)."""
    names = [*value_columns(list(pair)), *comparison_names(list(pair)), "= match weight"]
    name_width = max(len(n) for n in names)
    room = screen - PADDING - SCROLLBAR - name_width - AGREE_WIDTH - WEIGHT_WIDTH
    return max(6, min(SHOWN, room // 2))


def field_rows(
    pair: Mapping[str, Any],
    mask: Masker,
    levels: Mapping[str, Mapping[int, str]],
    width: int = SHOWN,
) -> list[FieldRow]:
    """The comparisons first (with their weights), then the prior and the match weight, then
    the other columns of both records; values cut to `width` characters."""
    columns = list(pair)
    rows: list[FieldRow] = []
    shown = value_columns(columns)
    scored = comparison_names(columns)
    for name in scored:
        gamma_value = pair.get(f"gamma_{name}")
        gamma = None if gamma_value is None else int(gamma_value)
        named = levels.get(name, {})
        top = max(named) if named else None
        label = "" if gamma is None else ("null" if gamma < 0 else named.get(gamma, str(gamma)))
        left, right = (
            (pair.get(f"{name}_l"), pair.get(f"{name}_r")) if name in shown else (None, None)
        )
        weight = pair.get(f"bf_{name}")
        agreement = level_agreement(gamma, top)
        if agreement == "missing" and _text(left) is not None and _text(right) is not None:
            agreement = INVALID  # both hold a value, yet the comparison saw none: cleaned away
        rows.append(
            FieldRow(
                name,
                _masked(name, left, mask, width) if name in shown else "",
                _masked(name, right, mask, width) if name in shown else "",
                agreement,
                label,
                None if weight is None else float(weight),
            )
        )
    prior, total = weights(pair, scored)
    rows.append(FieldRow("prior", "", "", "", "", prior))
    rows.append(FieldRow("= match weight", "", "", "", "", total))
    for name in shown:
        if name in scored or name in ("golden_id",):
            continue
        left, right = pair.get(f"{name}_l"), pair.get(f"{name}_r")
        rows.append(
            FieldRow(
                name,
                _masked(name, left, mask, width),
                _masked(name, right, mask, width),
                value_agreement(left, right),
                "",
                None,
            )
        )
    return rows


def weights(pair: Mapping[str, Any], comparisons: Sequence[str]) -> tuple[float, float]:
    """(prior, match weight): the prior is what the comparisons' weights leave of the total."""
    total = float(pair.get("match_weight") or 0.0)
    fields = sum(float(pair.get(f"bf_{c}") or 0.0) for c in comparisons)
    return total - fields, total


def _masked(column: str, value: Any, mask: Masker, width: int) -> str:
    text = _text(value)
    if text is None:
        return "–"
    shown = mask(column, text) or ""
    return shown if len(shown) <= width else f"{shown[: width - 1]}…"


VALUE = "customer_value"  # a run with a rollup: both golden records' value together
KEY_ACCOUNT = "key_account"  # either side is a key account
SORT_VALUE = "__value"  # a --value-column's value, joined from the golden records


def default_order(queue: pl.DataFrame) -> Order:
    """Key accounts and the customer's value first when the run rolled them up (`rollup:` with
    `order_review_by`), else uncertainty."""
    return Order.value if VALUE in queue.columns else Order.uncertainty


def ordered(queue: pl.DataFrame, order: Order, value_column: str | None = None) -> pl.DataFrame:
    """The queue in the order a steward works it; ties keep the run's order. `value` sorts by
    `value_column` (its `_l`/`_r` values, or a `__value` column joined for it), or without one
    by the run's key accounts and `customer_value`."""
    if order is Order.uncertainty and "match_probability" in queue.columns:
        return queue.sort((pl.col("match_probability") - 0.5).abs(), maintain_order=True)
    if order is Order.value and value_column is None and VALUE in queue.columns:
        keys = [KEY_ACCOUNT] if KEY_ACCOUNT in queue.columns else []
        return queue.sort(
            [*keys, VALUE],
            descending=True,
            nulls_last=True,
            maintain_order=True,
        )
    if order is Order.value and SORT_VALUE in queue.columns:
        return queue.sort(SORT_VALUE, descending=True, nulls_last=True, maintain_order=True).drop(
            SORT_VALUE
        )
    if order is Order.value and value_column is not None:
        value = pl.max_horizontal(
            pl.col(f"{value_column}_l").cast(pl.Float64, strict=False),
            pl.col(f"{value_column}_r").cast(pl.Float64, strict=False),
        )
        return queue.sort(value, descending=True, nulls_last=True, maintain_order=True)
    return queue


def with_golden_value(pending: pl.DataFrame, values: pl.DataFrame, column: str) -> pl.DataFrame:
    """The queue with `__value`: `column` of both golden records together (once when the pair
    is already one golden record), what `--order value --value-column` sorts by."""
    side = values.select("golden_id", pl.col(column).cast(pl.Float64, strict=False))
    ranked = pending
    for s in ("l", "r"):
        ranked = ranked.join(
            side.rename({"golden_id": f"golden_id_{s}", column: f"__{s}"}),
            on=f"golden_id_{s}",
            how="left",
            maintain_order="left",
        )
    same = pl.col("golden_id_l") == pl.col("golden_id_r")  # already one customer: count once
    return ranked.with_columns(
        pl.when(same)
        .then(pl.col("__l"))
        .otherwise(pl.col("__l").fill_null(0) + pl.col("__r").fill_null(0))
        .alias(SORT_VALUE)
    ).drop("__l", "__r")
