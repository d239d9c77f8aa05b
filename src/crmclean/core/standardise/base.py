"""The standardiser framework: ordered steps per column, each a pure function over a frame.

A step returns the new values and, per row, why it could not standardise (null when it could).
Rows whose step failed keep their original value unless the step says otherwise (impossible dates
become null); the failure is data, not an exception. Slow parsers run on unique values only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from crmclean.core.registry import Registry
from crmclean.core.spec import Spec

DEFAULT_NULL_TOKENS: tuple[str, ...] = (
    "",
    "n/a",
    "na",
    "n.a.",
    "-",
    "--",
    "unknown",
    "none",
    "null",
    "nil",
)


class StepSpec(Spec):
    type: str

    def output_columns(self) -> list[str]:
        """Columns besides its own that the step fills (they inherit the column's `pii`)."""
        return []


@dataclass(frozen=True)
class StepContext:
    """What a step needs besides its spec and the frame; built by `cleaning.clean`."""

    column: str
    country_column: str | None = None
    default_region: str = "DE"
    date_order: str = "dmy"
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS


@dataclass(frozen=True)
class StepResult:
    """The step's output for every row, in input order.

    `errors` (String) names why a value could not be standardised; `outputs` are other columns
    the step fills (an extension, a split first name), written only where they are not null.
    `unique_inputs` is how many distinct values a slow parser saw (for the unique-value ratio),
    `slow_inputs` how many of them a vectorised fast path could not answer.
    """

    values: pl.Series
    errors: pl.Series | None = None
    outputs: Mapping[str, pl.Series] = field(default_factory=dict)
    unique_inputs: int | None = None
    slow_inputs: int | None = None  # of those, how many the slow library parsed (no fast path)


StepFn = Callable[[StepSpec, pl.DataFrame, StepContext], StepResult]


@dataclass(frozen=True)
class Standardiser:
    name: str
    spec: type[StepSpec]
    apply: StepFn
    summary: str = ""


standardisers: Registry[Standardiser] = Registry("standardiser")
# Key steps (phonetic codes, initials) are not idempotent: allowed under `derive:` only.
key_steps: Registry[Standardiser] = Registry("key step")


def register(
    name: str, spec: type[StepSpec], summary: str, aliases: list[str] | None = None
) -> Callable[[StepFn], StepFn]:
    """Register `fn` as the standardiser `name` with its spec model."""

    def decorator(fn: StepFn) -> StepFn:
        standardisers.add(name, Standardiser(name, spec, fn, summary), aliases)
        return fn

    return decorator


def register_key(
    name: str, spec: type[StepSpec], summary: str, aliases: list[str] | None = None
) -> Callable[[StepFn], StepFn]:
    """Register `fn` as a key step: usable under `derive:` only."""

    def decorator(fn: StepFn) -> StepFn:
        key_steps.add(name, Standardiser(name, spec, fn, summary), aliases)
        return fn

    return decorator


def combined(*registries: Registry[Standardiser]) -> Registry[Standardiser]:
    """One registry holding every entry and alias of the given ones (for `derive:` steps)."""
    out: Registry[Standardiser] = Registry("step")
    for registry in registries:
        aliases = registry.aliases()
        for name, entry in registry:
            out.add(name, entry, [a for a, target in aliases.items() if target == name])
    return out


def column_values(frame: pl.DataFrame, ctx: StepContext) -> pl.Series:
    """The step's column as String (typed columns are standardised through their text)."""
    return frame.get_column(ctx.column).cast(pl.String)


def expr_step(build: Callable[[StepSpec, StepContext], pl.Expr]) -> StepFn:
    """A step that is one polars expression over the column: vectorised, cannot fail."""

    def apply(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
        values = frame.select(build(spec, ctx).alias(ctx.column)).to_series()
        return StepResult(values)

    return apply


def map_unique(
    values: pl.Series, fn: Callable[[str], str | None], dtype: pl.DataType | None = None
) -> tuple[pl.Series, int]:
    """Apply a slow Python function to each distinct non-null value and join the answers back.

    Returns the mapped series (same length and order) and the number of distinct values.
    """
    distinct = values.drop_nulls().unique()
    mapped = pl.Series([fn(v) for v in distinct.to_list()], dtype=dtype or pl.String)
    table = dict(zip(distinct.to_list(), mapped.to_list(), strict=True))
    out = values.replace_strict(table, default=None, return_dtype=dtype or pl.String)
    return out.alias(values.name), len(distinct)


def map_unique_pairs(
    values: pl.Series,
    errors_of: Callable[[str], tuple[str | None, str | None]],
) -> tuple[pl.Series, pl.Series, int]:
    """Like `map_unique`, for a parser that returns (value, error) per distinct input."""
    distinct = values.drop_nulls().unique().to_list()
    answers = [errors_of(v) for v in distinct]
    out_map = {v: a[0] for v, a in zip(distinct, answers, strict=True)}
    err_map = {v: a[1] for v, a in zip(distinct, answers, strict=True)}
    out = values.replace_strict(out_map, default=None, return_dtype=pl.String)
    err = values.replace_strict(err_map, default=None, return_dtype=pl.String)
    return out.alias(values.name), err.alias("error"), len(distinct)


def map_unique_columns(
    values: pl.Series,
    fn: Callable[[str], tuple[str | None, ...]],
    names: tuple[str, ...],
) -> tuple[pl.DataFrame, int]:
    """Apply `fn` (one value -> one tuple) to each distinct non-null value; a frame with one
    column per name, aligned with `values` (all null where the value is null)."""
    distinct = values.drop_nulls().unique().to_list()
    answers = [fn(v) for v in distinct]
    columns = {
        name: pl.Series(name, [a[i] for a in answers], dtype=pl.String)
        for i, name in enumerate(names)
    }
    table = pl.DataFrame({"__value": pl.Series(distinct, dtype=pl.String), **columns})
    keyed = values.cast(pl.String).alias("__value").to_frame()
    joined = keyed.join(table, on="__value", how="left", maintain_order="left")
    return joined.select(names), len(distinct)


def on_distinct(
    keys: pl.DataFrame, compute: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """Run `compute` once per distinct row of `keys` and join its columns back in row order.

    `compute` gets the distinct rows and returns them with its answer columns added. Values
    repeat a lot in customer data (dates of birth, postcodes, streets), so this is the cheap way
    to run a chain of regular expressions.
    """
    answers = compute(keys.unique())
    return keys.join(answers, on=keys.columns, how="left", maintain_order="left", nulls_equal=True)
