"""Cleaning a few records at a time, for the duplicate check at entry: the same values
`cleaning.clean` gives, in one fused plan.

`cleaning.clean` runs each step on its own and keeps its changes and statistics: right for a
million records, but for one record the ~60 steps of a rule file cost a polars call or ten each
(bookkeeping included), tens of milliseconds per lookup. Here the steps that are one polars
expression (trim, null tokens, case, keys; standardise.base.expr_step) are chained into one lazy
plan, collected only where a step that parses values in Python (phone, e-mail, dates) needs the
frame; nothing is recorded. tests/test_entry_clean.py holds it to `cleaning.clean`'s answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

from crmclean.core.cleaning import column_order, derive_source, step_context
from crmclean.core.standardise import StepSpec, derive_steps
from crmclean.core.standardise.base import StepContext, step_expression, step_value_function

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile


@dataclass
class _Plan:
    lazy: pl.LazyFrame

    def step(self, spec: StepSpec, ctx: StepContext) -> None:
        apply = derive_steps.get(spec.type).apply
        build = step_expression(apply)
        if build is not None:
            value = build(spec, ctx).cast(pl.String).alias(ctx.column)
            self.lazy = self.lazy.with_columns(value)
            return
        per_value = step_value_function(apply)
        if per_value is not None:  # mapped inside the plan: no collect
            fn = per_value(spec, ctx)
            mapped = (
                pl.col(ctx.column)
                .cast(pl.String)
                .map_batches(
                    lambda s: pl.Series(
                        [None if v is None else fn(v) for v in s.to_list()], dtype=pl.String
                    ),
                    return_dtype=pl.String,
                )
            )
            self.lazy = self.lazy.with_columns(mapped.alias(ctx.column))
            return
        frame = self.lazy.collect()
        result = apply(spec, frame, ctx)
        updates = [result.values.cast(pl.String).alias(ctx.column)]
        for name, values in result.outputs.items():  # filled only where not null
            old = (
                frame.get_column(name).cast(pl.String)
                if name in frame.columns
                else pl.Series(name, [None] * frame.height, dtype=pl.String)
            )
            updates.append(values.cast(pl.String).fill_null(old).alias(name))
        self.lazy = frame.with_columns(updates).lazy()


def clean_fused(frame: pl.DataFrame, rules: RuleFile) -> pl.DataFrame:
    """`cleaning.clean(frame, rules).frame`, without its changes and statistics. `frame` holds
    `record_id` and the rule file's columns, typed (the plan was compiled for them)."""
    plan = _Plan(frame.lazy())
    for name in column_order(rules):
        ctx = step_context(rules, name)
        for position, spec in enumerate(rules.columns[name].standardise):
            plan.step(spec, replace(ctx, step=("columns", name, position)))
    for name, derive in rules.derive.items():
        source = derive_source(derive.sources, derive.separator).alias(name)
        plan.lazy = plan.lazy.with_columns(source)
        ctx = step_context(rules, name)
        for position, spec in enumerate(derive.steps):
            plan.step(spec, replace(ctx, step=("derive", name, position)))
    return plan.lazy.collect()
