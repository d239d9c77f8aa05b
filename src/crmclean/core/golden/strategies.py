"""Survivorship strategies: each turns a candidate value into a sort key, in a registry.

A strategy never picks a row itself. It contributes one sort key per candidate; the golden
builder sorts every (golden record, column) group by the keys of the column's ordered strategy
list and keeps the first row. The first key on which the winner beats the runner-up names the
strategy that decided, which is what lineage records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import polars as pl
from pydantic import BeforeValidator, Field

from crmclean.core.registry import Registry
from crmclean.core.spec import Spec


class StrategySpec(Spec):
    type: str


class SourcePrioritySpec(StrategySpec):
    """Prefer values from the systems listed first; systems not listed come last."""

    type: Literal["source_priority"] = "source_priority"
    order: list[str] = Field(
        default_factory=list,
        description="Source systems, most trusted first; the sources: priorities if empty",
    )


class MostRecentSpec(StrategySpec):
    """Prefer the value of the most recently updated record (ISO strings or date types)."""

    type: Literal["most_recent"] = "most_recent"
    column: str | None = Field(
        None, description="Timestamp column; dataset.updated_column if unset"
    )


class MostCompleteSpec(StrategySpec):
    """Prefer the value from the record (or column group) with the most filled fields."""

    type: Literal["most_complete"] = "most_complete"


class MostFrequentSpec(StrategySpec):
    """Prefer the value most members agree on."""

    type: Literal["most_frequent"] = "most_frequent"


class LongestSpec(StrategySpec):
    """Prefer the longest text (e.g. a full first name over an initial)."""

    type: Literal["longest"] = "longest"


class MaxSpec(StrategySpec):
    type: Literal["max"] = "max"


class MinSpec(StrategySpec):
    type: Literal["min"] = "min"


# Per-record measures of the rollup (core/value), joined to the candidates under this prefix.
MEASURE_PREFIX = "__measure_"


class HighestMeasureSpec(StrategySpec):
    """Prefer the record with the most of a rollup measure (the source with the most revenue)."""

    type: Literal["highest_measure"] = "highest_measure"
    measure: str = Field(description="A measure of the rollup: section, e.g. revenue_total")


class FirstNonNullSpec(StrategySpec):
    """Prefer the value of the record that came first in the input."""

    type: Literal["first_non_null"] = "first_non_null"


class ValidOnlySpec(StrategySpec):
    """Prefer values that passed their error-severity checks."""

    type: Literal["valid_only"] = "valid_only"


@dataclass(frozen=True)
class Candidates:
    """Expressions over the candidate frame that every strategy may use."""

    group: str  # the golden-record key column
    value: pl.Expr  # the candidate value (for a column group: its members joined as text)
    filled: pl.Expr  # how many of the target's columns are non-null
    completeness: pl.Expr  # how many of the record's columns are non-null
    invalid: pl.Expr  # Boolean: the candidate failed an error-severity check
    row: pl.Expr  # position in the input, for first_non_null
    source_column: str | None
    updated_column: str | None


@dataclass(frozen=True)
class SortKey:
    expr: pl.Expr
    descending: bool


@dataclass(frozen=True)
class Strategy:
    name: str
    spec: type[StrategySpec]
    key: Callable[[Any, Candidates], SortKey]
    needs: Callable[[Any, Candidates], list[str]]
    shorthand: str | None = None  # field that `{name: value}` fills


strategies: Registry[Strategy] = Registry("survivorship strategy")


def _none(_spec: Any, _c: Candidates) -> list[str]:
    return []


def _source_key(spec: SourcePrioritySpec, c: Candidates) -> SortKey:
    rank = {name: i for i, name in enumerate(spec.order)}
    expr = (
        pl.col(c.source_column or "")
        .cast(pl.String)
        .replace_strict(rank, default=len(spec.order), return_dtype=pl.Int32)
    )
    return SortKey(expr, descending=False)


def _source_needs(_spec: SourcePrioritySpec, c: Candidates) -> list[str]:
    return [c.source_column] if c.source_column else ["<source column>"]


def _recent_column(spec: MostRecentSpec, c: Candidates) -> str | None:
    return spec.column or c.updated_column


def _recent_key(spec: MostRecentSpec, c: Candidates) -> SortKey:
    return SortKey(pl.col(_recent_column(spec, c) or ""), descending=True)


def _recent_needs(spec: MostRecentSpec, c: Candidates) -> list[str]:
    column = _recent_column(spec, c)
    return [column] if column else ["<updated column>"]


def _text_length(c: Candidates) -> pl.Expr:
    return c.value.cast(pl.String).str.len_chars()


strategies.add(
    "source_priority",
    Strategy("source_priority", SourcePrioritySpec, _source_key, _source_needs, "order"),
    aliases=["source"],
)
strategies.add(
    "most_recent",
    Strategy("most_recent", MostRecentSpec, _recent_key, _recent_needs, "column"),
    aliases=["recent", "latest"],
)
strategies.add(
    "most_complete",
    Strategy(
        "most_complete",
        MostCompleteSpec,
        lambda _s, c: SortKey(c.filled * 10_000 + c.completeness, descending=True),
        _none,
    ),
    aliases=["complete"],
)
strategies.add(
    "most_frequent",
    Strategy(
        "most_frequent",
        MostFrequentSpec,
        lambda _s, c: SortKey(pl.len().over(c.group, c.value), descending=True),
        _none,
    ),
    aliases=["frequent", "mode"],
)
strategies.add(
    "longest",
    Strategy("longest", LongestSpec, lambda _s, c: SortKey(_text_length(c), True), _none),
)
strategies.add("max", Strategy("max", MaxSpec, lambda _s, c: SortKey(c.value, True), _none))
strategies.add("min", Strategy("min", MinSpec, lambda _s, c: SortKey(c.value, False), _none))
strategies.add(
    "highest_measure",
    Strategy(
        "highest_measure",
        HighestMeasureSpec,
        lambda s, _c: SortKey(pl.col(MEASURE_PREFIX + s.measure), descending=True),
        lambda s, _c: [MEASURE_PREFIX + s.measure],
        "measure",
    ),
    aliases=["most_value"],
)
strategies.add(
    "first_non_null",
    Strategy("first_non_null", FirstNonNullSpec, lambda _s, c: SortKey(c.row, False), _none),
    aliases=["first"],
)
strategies.add(
    "valid_only",
    Strategy(
        "valid_only",
        ValidOnlySpec,
        lambda _s, c: SortKey(c.invalid.cast(pl.Int8), descending=False),
        _none,
    ),
    aliases=["valid"],
)


def _normalise(value: Any) -> Any:
    """`most_complete` -> {type: most_complete}; `{source_priority: [a, b]}` -> {type, order}."""
    if isinstance(value, str):
        value = {"type": value}
    elif isinstance(value, dict) and "type" not in value and len(value) == 1:
        ((name, arg),) = value.items()
        if isinstance(name, str) and name in strategies:
            field = strategies.get(name).shorthand
            value = {"type": name} if field is None or arg is None else {"type": name, field: arg}
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        name = value["type"]
        if name in strategies and strategies.canonical(name) != name:
            value = {**value, "type": strategies.canonical(name)}
    return value


def _union() -> Any:
    """A union of every registered strategy spec, tagged by `type`, with the shorthands."""
    models = tuple(entry.spec for _, entry in strategies)
    return Annotated[
        Union[models],  # noqa: UP007  (a runtime tuple of models)
        Field(discriminator="type"),
        BeforeValidator(_normalise),
    ]


StrategyUnion = _union()


def sort_key(spec: StrategySpec, candidates: Candidates) -> SortKey:
    return strategies.get(spec.type).key(spec, candidates)


def needed_columns(spec: StrategySpec, candidates: Candidates) -> list[str]:
    return strategies.get(spec.type).needs(spec, candidates)
