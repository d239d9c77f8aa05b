"""The standardiser framework: ordered steps per column, each a pure function over a frame.

A step returns the new values and, per row, why it could not standardise (null when it could).
Rows whose step failed keep their original value unless the step says otherwise (impossible dates
become null); the failure is data, not an exception. Slow parsers run on unique values only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
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


Compute = Callable[[pl.DataFrame], pl.DataFrame]


class DistinctCache:
    """Answers of slow functions for distinct inputs, kept across the batches of one run (the
    batched clean and validate, core/batched.py): a value parsed in one batch is not parsed
    again in the next. Bounded: past `max_rows` answers for one function (the batched steps
    give it their batch size), new answers are used for their batch but not kept, so the cache
    holds at most about a batch per slow step, never the file's distinct values."""

    def __init__(self, max_rows: int = 100_000) -> None:
        self.max_rows = max_rows
        self._tables: dict[Hashable, pl.DataFrame] = {}

    def answers(
        self, key: Hashable, distinct: pl.DataFrame, compute: Compute
    ) -> tuple[pl.DataFrame, int]:
        """`compute`'s answers (the rows with its columns added) for every distinct row, the
        ones known from earlier batches taken from the cache; and how many were computed now."""
        known = self._tables.get(key)
        if known is None:
            fresh = compute(distinct)
            if fresh.height <= self.max_rows:
                self._tables[key] = fresh
            return fresh, distinct.height
        on = distinct.columns
        todo = distinct.join(known, on=on, how="anti", nulls_equal=True)
        if todo.height == 0:
            return known, 0
        table = pl.concat([known, compute(todo)], how="vertical_relaxed")
        if table.height <= self.max_rows:
            self._tables[key] = table
        return table, todo.height


@dataclass(frozen=True)
class StepContext:
    """What a step needs besides its spec and the frame; built by `cleaning.clean`."""

    column: str
    country_column: str | None = None
    default_region: str = "DE"
    date_order: str = "dmy"
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS
    # the batched clean's cache of slow answers, and which step of the rule file this is
    cache: DistinctCache | None = field(default=None, compare=False)
    step: tuple[str | int, ...] = ()

    def distinct_answers(
        self, name: str, distinct: pl.DataFrame, compute: Compute
    ) -> tuple[pl.DataFrame, int]:
        """`compute` over distinct input rows (through the cross-batch cache when there is
        one); the answers and how many rows were computed (not found in the cache)."""
        if self.cache is None:
            return compute(distinct), distinct.height
        return self.cache.answers((*self.step, name), distinct, compute)


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


ExprBuild = Callable[[StepSpec, StepContext], pl.Expr]
_EXPRESSIONS: dict[StepFn, ExprBuild] = {}  # the steps expr_step made, and their expressions


def expr_step(build: ExprBuild) -> StepFn:
    """A step that is one polars expression over the column: vectorised, cannot fail."""

    def apply(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
        values = frame.select(build(spec, ctx).alias(ctx.column)).to_series()
        return StepResult(values)

    _EXPRESSIONS[apply] = build
    return apply


def step_expression(apply: StepFn) -> ExprBuild | None:
    """The expression of a step expr_step made (None for any other step): a caller cleaning a
    few records puts such steps into one lazy plan instead of running each on its own."""
    return _EXPRESSIONS.get(apply)


ValueBuild = Callable[[StepSpec, StepContext], Callable[[str], str | None]]
_VALUE_FUNCTIONS: dict[StepFn, ValueBuild] = {}  # the steps value_step made, and their function


def value_step(build: ValueBuild) -> StepFn:
    """A step that maps each value by a pure Python function (names, phonetic codes), run
    once per distinct value."""

    def apply(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
        values, distinct = map_unique(column_values(frame, ctx), build(spec, ctx), ctx=ctx)
        return StepResult(values.alias(ctx.column), unique_inputs=distinct)

    _VALUE_FUNCTIONS[apply] = build
    return apply


def step_value_function(apply: StepFn) -> ValueBuild | None:
    """The per-value function of a step value_step made (None for any other step): a caller
    cleaning a few records maps its values inside one lazy plan instead of collecting it."""
    return _VALUE_FUNCTIONS.get(apply)


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", type(fn).__name__)


def _distinct_frame(values: pl.Series) -> pl.DataFrame:
    return values.cast(pl.String).drop_nulls().unique().to_frame("__value")


def _per_value(
    fn: Callable[[str], tuple[object, ...]],
    names: tuple[str, ...],
    dtype: pl.DataType | None = None,
) -> Compute:
    """A frame-level compute over `__value` from a per-value Python function."""

    def compute(distinct: pl.DataFrame) -> pl.DataFrame:
        answers = [fn(v) for v in distinct.get_column("__value").to_list()]
        return distinct.with_columns(
            pl.Series(name, [a[i] for a in answers], dtype=dtype or pl.String)
            for i, name in enumerate(names)
        )

    return compute


# Up to this many values and without a cross-batch cache, a slow function is applied to each
# value directly: for the entry check's one record, finding distinct values and joining the
# answers back costs more than the function (the answers are the same: it is pure).
FEW_VALUES = 4


def _few(values: pl.Series | pl.DataFrame, ctx: StepContext | None) -> bool:
    return len(values) <= FEW_VALUES and (ctx is None or ctx.cache is None)


def _joined(values: pl.Series, answers: pl.DataFrame) -> pl.DataFrame:
    keyed = values.cast(pl.String).alias("__value").to_frame()
    return keyed.join(answers, on="__value", how="left", maintain_order="left")


def map_unique(
    values: pl.Series,
    fn: Callable[[str], str | None],
    dtype: pl.DataType | None = None,
    ctx: StepContext | None = None,
) -> tuple[pl.Series, int]:
    """Apply a slow Python function to each distinct non-null value and join the answers back.

    Returns the mapped series (same length and order) and the number of distinct values computed
    (with `ctx`'s cross-batch cache: those not answered by an earlier batch).
    """
    if _few(values, ctx):
        texts = values.cast(pl.String).to_list()
        mapped = [None if v is None else fn(v) for v in texts]
        computed = len({v for v in texts if v is not None})
        return pl.Series(values.name, mapped, dtype=dtype or pl.String), computed
    compute = _per_value(lambda v: (fn(v),), ("__out",), dtype)
    distinct = _distinct_frame(values)
    if ctx is None:
        answers, computed = compute(distinct), distinct.height
    else:
        answers, computed = ctx.distinct_answers(_name(fn), distinct, compute)
    out = _joined(values, answers).get_column("__out")
    return out.alias(values.name), computed


def map_unique_pairs(
    values: pl.Series,
    errors_of: Callable[[str], tuple[str | None, str | None]],
    ctx: StepContext | None = None,
) -> tuple[pl.Series, pl.Series, int]:
    """Like `map_unique`, for a parser that returns (value, error) per distinct input."""
    frame, computed = map_unique_columns(values, errors_of, ("__out", "error"), ctx)
    return frame.get_column("__out").alias(values.name), frame.get_column("error"), computed


def map_unique_columns(
    values: pl.Series,
    fn: Callable[[str], tuple[str | None, ...]],
    names: tuple[str, ...],
    ctx: StepContext | None = None,
) -> tuple[pl.DataFrame, int]:
    """Apply `fn` (one value -> one tuple) to each distinct non-null value; a frame with one
    column per name, aligned with `values` (all null where the value is null)."""
    if _few(values, ctx):
        texts = values.cast(pl.String).to_list()
        each = [(None,) * len(names) if v is None else fn(v) for v in texts]
        computed = len({v for v in texts if v is not None})
        columns = {name: [a[i] for a in each] for i, name in enumerate(names)}
        return pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String)), computed
    compute = _per_value(fn, names)
    distinct = _distinct_frame(values)
    if ctx is None:
        answers, computed = compute(distinct), distinct.height
    else:
        answers, computed = ctx.distinct_answers(_name(fn), distinct, compute)
    return _joined(values, answers).select(names), computed


def on_distinct(
    keys: pl.DataFrame, compute: Compute, ctx: StepContext | None = None
) -> pl.DataFrame:
    """Run `compute` once per distinct row of `keys` and join its columns back in row order.

    `compute` gets the distinct rows and returns them with its answer columns added. Values
    repeat a lot in customer data (dates of birth, postcodes, streets), so this is the cheap way
    to run a chain of regular expressions.
    """
    if keys.height == 1 and (ctx is None or ctx.cache is None):
        answers = compute(keys)  # one row is distinct: no join back when it comes back alone
        if answers.height == 1 and answers.select(*keys.columns).equals(keys):
            return answers.select(*keys.columns, pl.exclude(keys.columns))
    distinct = keys.unique()
    answers = (
        compute(distinct)
        if ctx is None
        else ctx.distinct_answers(_name(compute), distinct, compute)[0]
    )
    return keys.join(answers, on=keys.columns, how="left", maintain_order="left", nulls_equal=True)
