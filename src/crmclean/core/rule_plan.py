"""One checked plan of a rule file against a data schema, compiled once and run by every command.

Splink's SettingsCreator -> Settings, for rule files: `compile_plan(rules, schema)` finds every
way the rule file does not fit the data (columns the sections name, SQL that cannot run on these
types, regexes the engine refuses, values not of a column's declared type) and raises one
RuleSetupError (exit 2, each problem at its YAML path), or returns a RulePlan. The plan runs the
steps; a rule that still fails on the values (a strict CAST in an expression) raises the same
error, located the same way, whichever command runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from crmclean.core import batched, cleaning, validation
from crmclean.core.cleaning import CleanResult
from crmclean.core.golden.strategies import MEASURE_PREFIX
from crmclean.core.golden.survivorship import Settings
from crmclean.core.golden.survivorship import check_setup as survivorship_problems
from crmclean.core.matching import DedupeResult, column_problems, dedupe
from crmclean.core.pipeline import RunOptions, RunResult, run_pipeline
from crmclean.core.problems import Locator, RuleSetupError, SetupProblem, unlocated
from crmclean.core.rules.check_plan import Environment, PlannedRule, YamlPath, context, plan
from crmclean.core.rules.regexes import regex_problems
from crmclean.core.validation import ValidationResult
from crmclean.core.value import section_problems as rollup_problems

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile

__all__ = [
    "Environment",
    "PlannedRule",
    "RulePlan",
    "YamlPath",
    "compile_plan",
    "context",
    "plan",
    "setup_problems",
]

Schema = Mapping[str, pl.DataType]


@dataclass(frozen=True)
class RulePlan:
    """A rule file checked against the schema of the data it runs on."""

    rules: RuleFile
    schema: dict[str, pl.DataType]  # the data's columns, typed as the rule file declares
    standardised: dict[str, pl.DataType]  # the columns the standardise steps leave
    locate: Locator = unlocated

    @contextmanager
    def located(self) -> Iterator[None]:
        """A rule failing while it runs is placed in the rule file like a setup problem."""
        try:
            yield
        except RuleSetupError as exc:
            raise exc.located(self.locate) from None

    def clean(
        self, frame: pl.DataFrame, *, changes: bool = True, batch_rows: int | None = None
    ) -> CleanResult:
        """The clean step; with `batch_rows`, in batches of that many rows (same answers)."""
        with self.located():
            if batch_rows is not None:
                return batched.clean_batched(frame, self.rules, batch_rows, changes=changes)
            return cleaning.clean(frame, self.rules, changes=changes)

    def validate(
        self,
        frame: pl.DataFrame,
        *,
        reference: Mapping[str, Sequence[str]] | None = None,
        now: datetime | None = None,
        batch_rows: int | None = None,
    ) -> ValidationResult:
        """The validate step; with `batch_rows`, in batches of that many rows (same answers)."""
        with self.located():
            if batch_rows is not None:
                return batched.validate_batched(
                    frame, self.rules, batch_rows, reference=reference, now=now
                )
            return validation.validate(frame, self.rules, reference=reference, now=now)

    def dedupe(self, frame: pl.DataFrame, **options: Any) -> DedupeResult:
        if self.rules.matching is None:
            raise RuleSetupError(
                [SetupProblem((), "has no matching: section", "see docs/matching.md")],
                self.locate,
            )
        with self.located():
            return dedupe(frame, self.rules.matching, **options)

    def run(
        self,
        frame: pl.DataFrame,
        options: RunOptions,
        on_step: Callable[[str], None] | None = None,
    ) -> RunResult:
        with self.located():
            return run_pipeline(frame, self.rules, options, on_step=on_step)


def compile_plan(
    rules: RuleFile,
    schema: Schema,
    locate: Locator = unlocated,
    found: Sequence[SetupProblem] = (),
) -> RulePlan:
    """The checked plan, or one RuleSetupError with every problem (and those already `found`,
    such as values not of their column's type) at once."""
    standardised, problems = setup_problems(rules, schema)
    problems = [*found, *problems]
    if problems:
        raise RuleSetupError(problems, locate)
    return RulePlan(rules, dict(schema), standardised, locate)


def setup_problems(
    rules: RuleFile, schema: Schema
) -> tuple[dict[str, pl.DataType], list[SetupProblem]]:
    """The columns cleaning gives data of this schema, and every way the rule file does not fit
    it: standardise and derive, checks, matching, survivorship and regexes, all at once."""
    standardised, problems = validation.standardised_schema(rules, schema)
    problems += validation.setup_problems(rules, schema, standardised)
    cleaned = list(standardised)
    if rules.matching is not None:
        problems += column_problems(cleaned, rules.matching)
    settings = Settings.of(
        rules.survivorship, rules.dataset.source_column, rules.dataset.updated_column
    )
    skip = {rules.dataset.id_column, *rules.derive} - {"record_id"}
    measured = [MEASURE_PREFIX + m for m in rules.rollup.measures] if rules.rollup else []
    problems += survivorship_problems(settings, [c for c in cleaned if c not in skip] + measured)
    if rules.rollup is not None:
        problems += rollup_problems(
            rules.rollup, cleaned, rules.dataset.source_column, list(rules.sources)
        )
    # a regex the engine refuses is said once, as such, not again as SQL that cannot run
    refused = regex_problems(rules)
    paths = {p.path for p in refused}
    problems = [p for p in problems if p.path not in paths] + refused
    return standardised, list(dict.fromkeys(problems))
