"""Which checks a rule file asks for, with their rule ids, contexts and YAML paths.

Explicit checks under columns and at dataset level, plus the implicit ones that `required: true`
and `unique: true` on a column stand for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crmclean.core.checks import CheckContext, CheckSpec, checks
from crmclean.core.checks.base import declared_column
from crmclean.core.checks.not_null import NotNullCheck
from crmclean.core.checks.unique import UniqueCheck
from crmclean.core.standardise.base import DistinctCache

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PlannedRule:
    rule_id: str
    check: str  # registered check type
    spec: CheckSpec
    column: str | None  # the column it is declared under
    path: YamlPath  # where it stands in the rule file
    explicit_id: bool = False


@dataclass(frozen=True)
class Environment:
    """What every check context shares in one run."""

    reference: Mapping[str, Sequence[str]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    memo: dict[object, object] = field(default_factory=dict)
    cache: DistinctCache | None = None  # slow answers kept across batches (core/batched.py)


def plan(rules: RuleFile) -> list[PlannedRule]:
    planned: list[PlannedRule] = []
    for name, column in rules.columns.items():
        explicit = {checks.canonical(c.type) for c in column.checks}
        if column.required and "not_null" not in explicit:
            planned.append(_rule(NotNullCheck(), name, ("columns", name, "required")))
        if column.unique and "unique" not in explicit:
            planned.append(_rule(UniqueCheck(), name, ("columns", name, "unique")))
        for index, spec in enumerate(column.checks):
            planned.append(_rule(spec, name, ("columns", name, "checks", index)))
    for index, spec in enumerate(rules.checks):
        planned.append(_rule(spec, None, ("checks", index)))
    return _unique_ids(planned)


def _rule(spec: CheckSpec, column: str | None, path: YamlPath) -> PlannedRule:
    check = checks.canonical(spec.type)
    if spec.id:
        return PlannedRule(spec.id, check, spec, column, path, explicit_id=True)
    subject = column or declared_column(spec)
    rule_id = f"{subject}.{check}" if subject else check
    return PlannedRule(rule_id, check, spec, column, path)


def _unique_ids(planned: list[PlannedRule]) -> list[PlannedRule]:
    """Generated ids that collide get #2, #3 ...; explicit duplicates are left for setup checks."""
    seen: dict[str, int] = {}
    out = []
    for rule in planned:
        count = seen.get(rule.rule_id, 0) + 1
        seen[rule.rule_id] = count
        if count > 1 and not rule.explicit_id:
            rule = PlannedRule(
                f"{rule.rule_id}#{count}", rule.check, rule.spec, rule.column, rule.path
            )
        out.append(rule)
    return out


def context(rules: RuleFile, rule: PlannedRule, env: Environment) -> CheckContext:
    dataset = rules.dataset
    return CheckContext(
        rule_id=rule.rule_id,
        column=rule.column,
        country_column=dataset.country_column,
        default_region=dataset.default_region,
        date_order=dataset.date_order,
        reference=env.reference,
        now=env.now,
        scope=_scope(rule.spec),
        memo=env.memo,
        cache=env.cache,
    )


def _scope(spec: CheckSpec) -> str | None:
    """The values and rows a rule reads: memoised results are shared only within one scope."""
    if spec.on == "raw":
        return spec.when
    return f"standardised: {spec.when or ''}"
