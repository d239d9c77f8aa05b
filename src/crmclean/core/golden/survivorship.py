"""Golden records and lineage: per golden record and column, which member's value survives.

Every (golden record, column) group is ranked with one sort over the whole frame (no loop over
clusters): the implicit first key prefers a filled value, then each strategy of the column's
ordered list adds a key, and `record_id` breaks remaining ties so reruns agree. Column groups
under `keep_together` are ranked as one unit, so their values always come from one record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import polars as pl
from pydantic import BeforeValidator, Field, model_validator

from crmclean.core.contracts import LINEAGE_SCHEMA, RECORD_ID
from crmclean.core.golden.strategies import (
    MEASURE_PREFIX,
    Candidates,
    FirstNonNullSpec,
    MostCompleteSpec,
    MostFrequentSpec,
    StrategySpec,
    StrategyUnion,
    ValidOnlySpec,
    needed_columns,
    sort_key,
    strategies,
)
from crmclean.core.problems import SetupProblem
from crmclean.core.spec import Spec

ONLY_RECORD = "only_record"  # the golden record has one member
ONLY_VALUE = "only_value"  # the members had one distinct value
TIE_BREAK = "tie_break"  # every strategy tied; the smallest record_id won
NO_VALUE = "no_value"  # no member had a value


def _default_strategies() -> list[StrategySpec]:
    return [ValidOnlySpec(), MostCompleteSpec(), MostFrequentSpec(), FirstNonNullSpec()]


def _group_shorthand(value: Any) -> Any:
    return {"columns": value} if isinstance(value, list) else value


class KeepTogetherSpec(Spec):
    """Columns that must come from one source record (an address is never mixed)."""

    columns: list[str] = Field(min_length=2)
    strategies: list[StrategyUnion] | None = Field(
        None, description="Ordered strategies for the group; the default list if unset"
    )


class SurvivorshipSpec(Spec):
    """The `survivorship:` section: ordered strategies per column, with a default."""

    source_column: str | None = Field(None, description="dataset.source_column if unset")
    updated_column: str | None = Field(None, description="dataset.updated_column if unset")
    default: list[StrategyUnion] = Field(default_factory=_default_strategies)
    columns: dict[str, list[StrategyUnion]] = Field(default_factory=dict)
    keep_together: dict[str, Annotated[KeepTogetherSpec, BeforeValidator(_group_shorthand)]] = (
        Field(default_factory=dict)
    )
    exclude: list[str] = Field(
        default_factory=list, description="Columns not carried into golden records"
    )

    @model_validator(mode="after")
    def _one_rule_per_column(self) -> SurvivorshipSpec:
        owner: dict[str, str] = {}
        for name, group in self.keep_together.items():
            for column in group.columns:
                if column in owner:
                    raise ValueError(
                        f"column {column!r} is in keep_together groups {owner[column]!r} "
                        f"and {name!r}; a column can belong to one group"
                    )
                owner[column] = name
                if column in self.columns:
                    raise ValueError(
                        f"column {column!r} has its own strategies and is in keep_together "
                        f"group {name!r}; give the strategies to the group instead"
                    )
        return self


@dataclass(frozen=True)
class Target:
    """One ranking unit: a single column, or a keep_together group."""

    name: str
    columns: list[str]
    strategies: list[StrategySpec]
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class GoldenResult:
    golden: pl.DataFrame  # golden_id first, then one column per surviving column
    lineage: pl.DataFrame  # LINEAGE_SCHEMA: one row per golden cell


@dataclass(frozen=True)
class Settings:
    """The spec with dataset defaults resolved."""

    spec: SurvivorshipSpec
    source_column: str | None
    updated_column: str | None

    @classmethod
    def of(
        cls,
        spec: SurvivorshipSpec | None,
        source_column: str | None = None,
        updated_column: str | None = None,
    ) -> Settings:
        spec = spec or SurvivorshipSpec()
        return cls(spec, spec.source_column or source_column, spec.updated_column or updated_column)


def golden_columns(settings: Settings, columns: list[str]) -> list[str]:
    skip = {RECORD_ID, settings.source_column, *settings.spec.exclude}
    return [c for c in columns if c not in skip and not c.startswith(MEASURE_PREFIX)]


def targets(settings: Settings, columns: list[str]) -> list[Target]:
    spec = settings.spec
    grouped = {c for g in spec.keep_together.values() for c in g.columns}
    out = [
        Target(name, g.columns, list(g.strategies or spec.default), ("keep_together", name))
        for name, g in spec.keep_together.items()
    ]
    for column in golden_columns(settings, columns):
        if column not in grouped:
            path: tuple[str | int, ...] = (
                ("columns", column) if column in spec.columns else ("default",)
            )
            out.append(Target(column, [column], list(spec.columns.get(column, spec.default)), path))
    return out


def check_setup(settings: Settings, columns: list[str]) -> list[SetupProblem]:
    """Every survivorship setting that names a column the data lacks, all at once."""
    have = set(columns)
    problems: list[SetupProblem] = []
    spec = settings.spec
    for column in spec.columns:
        if column not in have:
            problems.append(SetupProblem(("survivorship", "columns", column), "no such column"))
    for name, group in spec.keep_together.items():
        for i, column in enumerate(group.columns):
            if column not in have:
                path = ("survivorship", "keep_together", name, "columns", i)
                problems.append(SetupProblem(path, f"no such column {column!r}"))
    candidates = _candidates(settings, "golden_id", [])
    for target in targets(settings, columns):
        for i, strategy in enumerate(target.strategies):
            for column in needed_columns(strategy, candidates):
                if column not in have and column.startswith(MEASURE_PREFIX):
                    measure = column.removeprefix(MEASURE_PREFIX)
                    problems.append(
                        SetupProblem(
                            ("survivorship", *target.path, i),
                            f"no measure {measure!r} in rollup.measures",
                            "add it to the rule file's rollup: section",
                        )
                    )
                elif column not in have:
                    problems.append(
                        SetupProblem(
                            ("survivorship", *target.path, i),
                            f"strategy {strategy.type!r} needs column {column!r}",
                            "set dataset.source_column / dataset.updated_column, or name "
                            "the column in the strategy",
                        )
                    )
    return list({(p.path, p.problem): p for p in problems}.values())


def _candidates(settings: Settings, key: str, columns: list[str]) -> Candidates:
    filled = pl.sum_horizontal([pl.col(c).is_not_null() for c in columns]) if columns else pl.lit(0)
    if len(columns) == 1:
        value = pl.col(columns[0])
    else:
        value = pl.concat_str([pl.col(c).cast(pl.String) for c in columns], separator="\x1f")
    return Candidates(
        group=key,
        value=value,
        filled=filled,
        completeness=pl.col("__complete"),
        invalid=pl.col("__invalid"),
        row=pl.col("__row"),
        source_column=settings.source_column,
        updated_column=settings.updated_column,
    )


def build_golden(
    records: pl.DataFrame,
    members: pl.DataFrame,
    spec: SurvivorshipSpec | None = None,
    *,
    invalid: pl.DataFrame | None = None,
    source_column: str | None = None,
    updated_column: str | None = None,
    key: str = "golden_id",
) -> GoldenResult:
    """Golden records from `records` (record_id + data) grouped by `members` (record_id, key).

    `invalid` lists cells (record_id, column) that failed error-severity checks; `valid_only`
    ranks them last. Records without a member row are not part of any golden record.
    """
    settings = Settings.of(spec, source_column, updated_column)
    columns = golden_columns(settings, records.columns)
    invalid = (
        invalid
        if invalid is not None
        else pl.DataFrame(schema={RECORD_ID: pl.String, "column": pl.String})
    )
    candidates = (
        records.with_row_index("__row")
        .with_columns(
            pl.sum_horizontal([pl.col(c).is_not_null() for c in columns]).alias("__complete")
            if columns
            else pl.lit(0).alias("__complete")
        )
        .join(members.select(RECORD_ID, key), on=RECORD_ID, how="inner")
        .with_columns(pl.len().over(key).alias("__size"))
    )
    single = candidates.filter(pl.col("__size") == 1)
    # ranking sorts on integer codes of the golden key and of record_id (same order as the
    # strings, so ties still go to the smallest record_id) instead of on the strings themselves
    multi = candidates.filter(pl.col("__size") > 1).with_columns(
        pl.col(key).rank("dense").alias("__g"), pl.col(RECORD_ID).rank("ordinal").alias("__rid")
    )
    src = (
        pl.col(settings.source_column).cast(pl.String)
        if settings.source_column
        else pl.lit(None, pl.String)
    )

    # one wide row per golden record: the values, and per column where it came from
    filled = [pl.col(c).is_not_null() for c in columns]
    parts = [
        single.select(
            key,
            *columns,
            *[
                pl.when(f).then(pl.col(RECORD_ID)).alias(f"__rid_{c}")
                for c, f in zip(columns, filled, strict=True)
            ],
            *[
                pl.when(f).then(src).alias(f"__src_{c}")
                for c, f in zip(columns, filled, strict=True)
            ],
            *[
                pl.when(f).then(pl.lit(ONLY_RECORD)).otherwise(pl.lit(NO_VALUE)).alias(f"__how_{c}")
                for c, f in zip(columns, filled, strict=True)
            ],
        )
    ]
    if multi.height:
        winners = multi.select("__g", key).unique("__g")
        for target in targets(settings, records.columns):
            winners = winners.join(
                _rank(multi, target, settings, invalid, src), on="__g", how="left"
            )
        parts.append(winners.drop("__g"))
    wide = pl.concat(parts, how="diagonal_relaxed").sort(key)
    golden = wide.select(key, *columns)
    return GoldenResult(
        golden.rename({key: "golden_id"}) if key != "golden_id" else golden,
        lineage_of(wide, key, columns),
    )


def lineage_of(wide: pl.DataFrame, key: str, columns: list[str]) -> pl.DataFrame:
    """One lineage row per golden cell, in golden-record order and within it in column order:
    each golden record's cells as lists, exploded (row-major, so no sort and no second copy of
    the cells; at a million records the lineage is ~9 million rows)."""
    if not columns:
        return pl.DataFrame(schema=LINEAGE_SCHEMA)

    def cells(prefix: str) -> pl.Expr:
        return pl.concat_list([pl.col(f"{prefix}{c}").cast(pl.String) for c in columns])

    names = pl.concat_list([pl.lit(c, pl.String) for c in columns])
    listed = ["column", "record_id", "source_system", "strategy"]
    return (
        wide.select(
            pl.col(key).cast(pl.String).alias("golden_id"),
            names.alias("column"),
            cells("__rid_").alias("record_id"),
            cells("__src_").alias("source_system"),
            cells("__how_").alias("strategy"),
        )
        .explode(listed)
        .cast(LINEAGE_SCHEMA)
    )


def _rank(
    multi: pl.DataFrame,
    target: Target,
    settings: Settings,
    invalid: pl.DataFrame,
    src: pl.Expr,
) -> pl.DataFrame:
    """Per golden record (`__g`) the winning member's values of one target, and for each of its
    columns the member, source system and deciding strategy (`__rid_`, `__src_`, `__how_`)."""
    cands = _candidates(settings, "__g", target.columns)
    bad = (
        invalid.filter(pl.col("column").is_in(target.columns))
        .select(pl.col(RECORD_ID).cast(pl.String))
        .unique()
        .with_columns(pl.lit(True).alias("__invalid"))
    )
    if bad.height:
        frame = multi.join(bad, on=RECORD_ID, how="left").with_columns(
            pl.col("__invalid").fill_null(False)
        )
    else:
        frame = multi.with_columns(pl.lit(False).alias("__invalid"))
    # carry only what ranking and lineage read through the sort, not every data column
    wanted = {"__g", "__rid", RECORD_ID, "__row", "__complete", "__invalid", *target.columns}
    wanted |= {c for st in target.strategies for c in needed_columns(st, cands)}
    wanted |= {settings.source_column} if settings.source_column else set()
    frame = frame.select([c for c in frame.columns if c in wanted])
    names = ["__k0", *[f"__k{i + 1}" for i in range(len(target.strategies))], "__rid"]
    labels = [ONLY_VALUE, *[s.type for s in target.strategies], TIE_BREAK]
    keys = [(cands.filled > 0).alias("__k0")]
    descending = [True]
    for i, strategy in enumerate(target.strategies):
        sk = sort_key(strategy, cands)
        keys.append(sk.expr.alias(f"__k{i + 1}"))
        descending.append(sk.descending)
    # Lineage names the strategy that chose the value: compare the winner with the best
    # candidate holding a *different* value, so two members agreeing is not a "tie".
    distinct_value = pl.struct([pl.col(c) for c in target.columns]).alias("__value")
    ranked = (
        frame.with_columns(keys)
        .sort(["__g", *names], descending=[False, *descending, False], nulls_last=True)
        .filter(pl.struct(pl.col("__g"), distinct_value).is_first_distinct())
        .with_columns(pl.col("__g").is_first_distinct().alias("__winner"))
    )
    decided: pl.Expr = pl.lit(TIE_BREAK)
    for name, label in reversed(list(zip(names[:-1], labels[:-1], strict=True))):
        differs = pl.col(name).ne_missing(pl.col(name).shift(-1))
        decided = pl.when(differs).then(pl.lit(label)).otherwise(decided)
    alone = pl.col("__g").ne_missing(pl.col("__g").shift(-1))  # no other distinct value
    winners = ranked.with_columns(
        pl.when(~pl.col("__k0"))
        .then(pl.lit(NO_VALUE))
        .when(alone)
        .then(pl.lit(ONLY_VALUE))
        .otherwise(decided)
        .alias("__strategy")
    ).filter(pl.col("__winner"))
    has = pl.col("__k0")
    return winners.select(
        "__g",
        *target.columns,
        *[pl.when(has).then(pl.col(RECORD_ID)).alias(f"__rid_{c}") for c in target.columns],
        *[pl.when(has).then(src).alias(f"__src_{c}") for c in target.columns],
        *[pl.col("__strategy").alias(f"__how_{c}") for c in target.columns],
    )


__all__ = [
    "GoldenResult",
    "KeepTogetherSpec",
    "Settings",
    "SetupProblem",
    "SurvivorshipSpec",
    "build_golden",
    "check_setup",
    "strategies",
    "targets",
]
