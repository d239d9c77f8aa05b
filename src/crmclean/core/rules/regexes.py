"""Regexes a rule file hands to polars' engine, compiled once at setup.

Rust's regex engine refuses patterns whose compiled form exceeds its size limit (`\\w{300}`):
found here, at setup and in `rules check`, with the YAML path, instead of as an engine error
while the data is checked. SQL expressions are searched in polars' parsed form, so `~`,
`RLIKE`, `regexp_like(...)` and `LIKE` are covered whatever their spelling.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from crmclean.core.checks.base import parse_sql
from crmclean.core.checks.pattern import PatternCheck, compile_error, regex_of
from crmclean.core.problems import SetupProblem
from crmclean.core.rules.check_plan import plan

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile

_PATTERN_FUNCTIONS = {"Extract", "ExtractAll", "ExtractGroups", "CountMatches", "SplitRegex"}


def sql_regexes(text: str) -> list[str]:
    """The regex patterns in a SQL boolean expression, as polars will compile them."""
    try:
        # parse_sql: polars sees only the allow-listed SQL (checks.safe_sql), never the raw text
        tree = json.loads(parse_sql(text).meta.serialize(format="json"))
    except Exception:  # does not parse (reported by the checks' own setup) or no JSON form
        return []
    return list(dict.fromkeys(_patterns(tree)))


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _patterns(item)
        return
    if not isinstance(node, dict):
        return
    function = node.get("Function")
    if isinstance(function, dict) and _is_regex(function.get("function")):
        inputs = function.get("input") or []
        if len(inputs) > 1:
            literal = inputs[1].get("Literal", {}) if isinstance(inputs[1], dict) else {}
            value = literal.get("Scalar", {}).get("String") if isinstance(literal, dict) else None
            if isinstance(value, str):
                yield value
    for value in node.values():
        yield from _patterns(value)


def _is_regex(function: Any) -> bool:
    string = function.get("StringExpr") if isinstance(function, dict) else None
    if not isinstance(string, dict):
        return False
    return any(
        name in _PATTERN_FUNCTIONS or (isinstance(opts, dict) and opts.get("literal") is False)
        for name, opts in string.items()
    )


def regex_problems(rules: RuleFile) -> list[SetupProblem]:
    """Every regex of the rule file's checks that the engine refuses, with its YAML path."""
    problems: list[SetupProblem] = []
    for rule in plan(rules):
        spec = rule.spec
        found: list[tuple[str, str]] = []
        if isinstance(spec, PatternCheck):
            found.append(("pattern", regex_of(spec)))
        for key in ("when", "expr"):
            text = getattr(spec, key, None)
            if isinstance(text, str):
                found += [(key, pattern) for pattern in sql_regexes(text)]
        for key, pattern in found:
            reason = compile_error(pattern)
            if reason is not None:
                problems.append(
                    SetupProblem(
                        (*rule.path, key),
                        f"regex {pattern!r} is refused by the engine: {reason}",
                        "simplify it: fewer or smaller repetitions of classes such as \\w"
                        if "size limit" in reason
                        else "write it in Rust regex syntax: no look-around, no backreferences",
                    )
                )
    return problems
