"""Measures per golden record, in a registry: each turns its spec into polars aggregations.

A measure aggregates the movement rows of one table that belong to a key (golden_id, or
record_id for survivorship), optionally only those within a window before `as_of`. Score
measures (recency, frequency, monetary, rfm) rank the keys afterwards, in quintiles 1-5.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from crmclean.core.registry import Registry
from crmclean.core.spec import Spec, tagged_union

WINDOW = re.compile(r"^[1-9][0-9]*(d|w|mo|y)$")
DATE = "__date"  # the movement date, parsed (pl.Date)
AMOUNT = "__amount"  # the amount, parsed (pl.Float64)


class MeasureSpec(Spec):
    type: str
    table: str | None = Field(None, description="Movement table; the only one if unset")
    within: str | None = Field(
        None, description="Only movements this long before as_of: 365d, 52w, 12mo, 1y"
    )

    @field_validator("within")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and not WINDOW.fullmatch(value):
            raise ValueError(f"{value!r} is not a window such as 365d, 52w, 12mo or 1y")
        return value


class SumSpec(MeasureSpec):
    """Total of a column (the table's amount if unset); 0 for a customer without movements."""

    type: Literal["sum"] = "sum"
    column: str | None = None


class CountSpec(MeasureSpec):
    """Number of movements; 0 for a customer without any."""

    type: Literal["count"] = "count"


class MinSpec(MeasureSpec):
    type: Literal["min"] = "min"
    column: str | None = None


class MaxSpec(MeasureSpec):
    type: Literal["max"] = "max"
    column: str | None = None


class FirstDateSpec(MeasureSpec):
    """The first movement's date (the table's date column)."""

    type: Literal["first_date"] = "first_date"


class LastDateSpec(MeasureSpec):
    """The last movement's date (the table's date column)."""

    type: Literal["last_date"] = "last_date"


class DistinctCountSpec(MeasureSpec):
    """Number of distinct non-null values of a column (products, channels, sales reps)."""

    type: Literal["distinct_count"] = "distinct_count"
    column: str


class RecencySpec(MeasureSpec):
    """1-5: the quintile of the last movement's date among customers with movements (5 newest)."""

    type: Literal["recency_score"] = "recency_score"


class FrequencySpec(MeasureSpec):
    """1-5: the quintile of the number of movements (5 most)."""

    type: Literal["frequency_score"] = "frequency_score"


class MonetarySpec(MeasureSpec):
    """1-5: the quintile of the total amount (5 highest)."""

    type: Literal["monetary_score"] = "monetary_score"


class RfmSpec(MeasureSpec):
    """Recency, frequency and monetary scores as one number: 555 is the best customer."""

    type: Literal["rfm"] = "rfm"


@dataclass(frozen=True)
class Context:
    """What a measure's expressions may use: the window filter and the helper-column prefix."""

    name: str  # the measure's name: its output column, and the prefix of its helper columns
    window: pl.Expr | None  # Boolean over movement rows: inside the measure's window (None: all)
    amount: str  # the column summed (the parsed amount unless the measure names another)

    def inside(self, expr: pl.Expr) -> pl.Expr:
        """`expr` over the rows in the window."""
        return expr if self.window is None else expr.filter(self.window)

    def rows(self) -> pl.Expr:
        """How many rows are in the window."""
        return pl.len() if self.window is None else self.window.sum()


@dataclass(frozen=True)
class Measure:
    spec: type[MeasureSpec]
    # aggregations over the movement rows of one key
    aggs: Callable[[Any, Context], list[pl.Expr]]
    # the measure's column over the aggregated frame (helpers ranked across keys), before fill
    finish: Callable[[Any, Context], pl.Expr]
    fill: Any  # value for a key without movements (None: stays null)
    needs_date: bool = False
    needs_amount: bool = False  # uses the table's amount unless the spec names a column


measures: Registry[Measure] = Registry("measure")


def _out(ctx: Context) -> pl.Expr:
    return pl.col(ctx.name)


NUMERIC = ("sum", "min", "max")  # measures that read their `column` as numbers


def number_column(column: str) -> str:
    """The movement column holding `column` parsed as numbers (movements.py parses it once)."""
    return "__number:" + column


def _numeric(column: str) -> pl.Expr:
    return pl.col(column) if column == AMOUNT else pl.col(number_column(column))


def _quintile(column: str) -> pl.Expr:
    """1..5 by rank among the keys that have a value (ties share the higher score)."""
    col = pl.col(column)
    return (col.rank("max") * 5 / col.count()).ceil().clip(1, 5).cast(pl.Int8).alias(column + "_q")


def _last(ctx: Context) -> str:
    return f"__{ctx.name}_last"


def _count(ctx: Context) -> str:
    return f"__{ctx.name}_count"


def _sum(ctx: Context) -> str:
    return f"__{ctx.name}_sum"


def _score_aggs(_s: Any, ctx: Context) -> list[pl.Expr]:
    some = ctx.rows() > 0
    return [
        ctx.inside(pl.col(DATE)).max().alias(_last(ctx)),
        pl.when(some).then(ctx.rows()).alias(_count(ctx)),
        pl.when(some).then(ctx.inside(pl.col(AMOUNT)).sum()).alias(_sum(ctx)),
    ]


def _score(helper: Callable[[Context], str]) -> Callable[[Any, Context], pl.Expr]:
    return lambda _s, ctx: _quintile(helper(ctx))


def _rfm(_s: Any, ctx: Context) -> pl.Expr:
    r, f, m = (_quintile(h(ctx)).cast(pl.Int16) for h in (_last, _count, _sum))
    return r * 100 + f * 10 + m


def _column(spec: Any, ctx: Context) -> str:
    return spec.column or ctx.amount


measures.add(
    "sum",
    Measure(
        SumSpec,
        # rounded: a float sum may differ in its last bits with the order rows are added in
        lambda s, c: [c.inside(_numeric(_column(s, c))).sum().round(6).alias(c.name)],
        lambda _s, c: _out(c),
        0.0,
        needs_amount=True,
    ),
    aliases=["total"],
)
measures.add(
    "count",
    Measure(
        CountSpec,
        lambda _s, c: [c.rows().cast(pl.Int64).alias(c.name)],
        lambda _s, c: _out(c),
        0,
    ),
)
measures.add(
    "min",
    Measure(
        MinSpec,
        lambda s, c: [c.inside(_numeric(_column(s, c))).min().alias(c.name)],
        lambda _s, c: _out(c),
        None,
        needs_amount=True,
    ),
)
measures.add(
    "max",
    Measure(
        MaxSpec,
        lambda s, c: [c.inside(_numeric(_column(s, c))).max().alias(c.name)],
        lambda _s, c: _out(c),
        None,
        needs_amount=True,
    ),
)
measures.add(
    "first_date",
    Measure(
        FirstDateSpec,
        lambda _s, c: [c.inside(pl.col(DATE)).min().alias(c.name)],
        lambda _s, c: _out(c),
        None,
        needs_date=True,
    ),
)
measures.add(
    "last_date",
    Measure(
        LastDateSpec,
        lambda _s, c: [c.inside(pl.col(DATE)).max().alias(c.name)],
        lambda _s, c: _out(c),
        None,
        needs_date=True,
    ),
)
measures.add(
    "distinct_count",
    Measure(
        DistinctCountSpec,
        lambda s, c: [
            c.inside(pl.col(s.column)).drop_nulls().n_unique().cast(pl.Int64).alias(c.name)
        ],
        lambda _s, c: _out(c),
        0,
    ),
    aliases=["n_unique"],
)
measures.add(
    "recency_score",
    Measure(RecencySpec, _score_aggs, _score(_last), None, needs_date=True, needs_amount=True),
    aliases=["recency"],
)
measures.add(
    "frequency_score",
    Measure(FrequencySpec, _score_aggs, _score(_count), None, needs_date=True, needs_amount=True),
    aliases=["frequency"],
)
measures.add(
    "monetary_score",
    Measure(MonetarySpec, _score_aggs, _score(_sum), None, needs_date=True, needs_amount=True),
    aliases=["monetary"],
)
measures.add(
    "rfm",
    Measure(RfmSpec, _score_aggs, _rfm, None, needs_date=True, needs_amount=True),
    aliases=["rfm_score"],
)

MeasureUnion = tagged_union(measures, lambda entry: entry.spec)
