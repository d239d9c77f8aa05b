"""Comparison levels as SQL (DuckDB's and Spark's, dialect.py): each level spec of
core/matching/comparators.py becomes a boolean SQL expression over the two sides of a pair
(`l`, `r`: rows of the blank-to-null `vals` view), and a comparison one `CASE` giving its gamma
(comparing.py's order: null level -1 first, the first level that holds wins, else 0).

Every level type needs a translation here: a new type in the registry without one is refused
(`NoTranslation`) and shows up as a failing case table on the SQL engines, never silently.
Metrics the dialect has built in run there (DuckDB: jaro_winkler, jaro, levenshtein,
damerau_levenshtein; Spark: levenshtein); the others through each engine's rapidfuzz UDFs.
rapidfuzz hands similarities to the polars engine as float32, so built-in similarities are
rounded the same way before the threshold (a score of 0.8999999 must not hold at 0.9 on one
engine and fail on the other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmclean.core.matching.comparators import (
    DateSwappedLevel,
    DateWithinLevel,
    DifferentLevel,
    ExactLevel,
    LevelSpec,
    NicknameLevel,
    NullLevel,
    NumericDifferenceLevel,
    PhoneticLevel,
    SimilarityLevel,
    SwappedLevel,
)
from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.metrics import metrics
from crmclean.core.matching.spec import ComparisonSpec
from crmclean.engines.sql.dialect import DUCKDB, Dialect
from crmclean.errors import UsageError


class NoTranslation(UsageError):
    """A comparison level type the SQL engines cannot run."""


class Sides:
    """The SQL of one column on both sides of a pair; `types` maps column -> SQL type."""

    def __init__(
        self,
        types: dict[str, str],
        left: str = "l",
        right: str = "r",
        dialect: Dialect = DUCKDB,
    ) -> None:
        self.types, self.left, self.right, self.dialect = types, left, right, dialect

    def of(self, column: str) -> tuple[str, str]:
        q = self.dialect.ident
        return f"{self.left}.{q(column)}", f"{self.right}.{q(column)}"

    def text(self, column: str, case_sensitive: bool = False) -> tuple[str, str]:
        a, b = self.of(column)
        a, b = self.dialect.string(a), self.dialect.string(b)
        return (a, b) if case_sensitive else (f"lower({a})", f"lower({b})")

    def present(self, column: str) -> str:
        a, b = self.of(column)
        return f"({a} IS NOT NULL AND {b} IS NOT NULL)"

    def equal(self, column: str, case_sensitive: bool = False) -> str:
        a, b = self.text(column, case_sensitive)
        return f"({self.present(column)} AND {a} = {b})"

    def dates(self, column: str) -> tuple[str, str]:
        kind = self.types.get(column, "VARCHAR").upper()

        def one(side: str) -> str:
            if kind == "DATE":
                return side
            if kind.startswith("TIMESTAMP"):
                return f"CAST({side} AS DATE)"
            return self.dialect.iso_date(f"substr({self.dialect.string(side)}, 1, 10)")

        a, b = self.of(column)
        return one(a), one(b)


def metric_test(metric: str, a: str, b: str, threshold: float, dialect: Dialect = DUCKDB) -> str:
    """`metric(a, b)` at or above (similarities) or at or below (distances) `threshold`;
    a missing side counts as "" as in metrics.metric_scores."""
    entry = metrics.get(metric)
    a, b = f"coalesce({dialect.string(a)}, '')", f"coalesce({dialect.string(b)}, '')"
    score = f"{dialect.metric_function(entry.name)}({a}, {b})"
    number = dialect.number
    if entry.kind == "distance":
        return f"({score} <= {number(threshold)})"
    return f"(CAST(CAST({score} AS FLOAT) AS DOUBLE) >= {number(threshold)})"


Translation = Callable[[Any, str, Sides], str]


def _null(spec: NullLevel, column: str, s: Sides) -> str:
    tests = []
    for name in spec.columns or [column]:
        a, b = s.of(name)
        tests.append(f"({a} IS NULL OR {b} IS NULL)")
    return "(" + " AND ".join(tests) + ")"


def _exact(spec: ExactLevel, column: str, s: Sides) -> str:
    return s.equal(column, spec.case_sensitive)


def _different(spec: DifferentLevel, column: str, s: Sides) -> str:
    return f"({s.present(column)} AND NOT {s.equal(column, spec.case_sensitive)})"


def _similarity(spec: SimilarityLevel, column: str, s: Sides) -> str:
    a, b = s.of(column)
    return metric_test(spec.metric, a, b, spec.threshold, s.dialect)


def _date_within(spec: DateWithinLevel, column: str, s: Sides) -> str:
    a, b = s.dates(column)
    return f"coalesce({s.dialect.days_apart(a, b)} <= {spec.days}, false)"


def _date_swapped(spec: DateSwappedLevel, column: str, s: Sides) -> str:
    a, b = s.dates(column)
    test = (
        f"year({a}) = year({b}) AND month({a}) = day({b}) AND day({a}) = month({b}) "
        f"AND day({a}) <> month({a})"
    )
    return f"coalesce({test}, false)"


def _numeric(spec: NumericDifferenceLevel, column: str, s: Sides) -> str:
    a, b = (f"TRY_CAST({side} AS DOUBLE)" for side in s.of(column))
    gap = f"abs({a} - {b})"
    if spec.relative:  # both zero, or a side not a number: no difference (as the polars engine)
        zero = s.dialect.number(0.0)
        gap = f"coalesce({gap} / nullif(greatest(abs({a}), abs({b})), {zero}), {zero})"
    return f"coalesce({gap} <= {s.dialect.number(spec.max_difference)}, false)"


def _phonetic(spec: PhoneticLevel, column: str, s: Sides) -> str:
    a, b = s.of(column)
    code_a, code_b = f"phonetic_{spec.algorithm}({a})", f"phonetic_{spec.algorithm}({b})"
    return f"coalesce({code_a} = {code_b} AND length({code_a}) > 0, false)"


def _nickname(spec: NicknameLevel, column: str, s: Sides) -> str:
    a, b = s.of(column)
    return f"coalesce(nickname({a}) = nickname({b}), false)"


_NOT_A_LETTER = r"[^\p{L}]"


def _initial(spec: LevelSpec, column: str, s: Sides) -> str:
    def letters(side: str) -> str:
        return f"lower({s.dialect.replace_all(s.dialect.string(side), _NOT_A_LETTER)})"

    a, b = (letters(side) for side in s.of(column))
    first_a, first_b = f"substr({a}, 1, 1)", f"substr({b}, 1, 1)"
    one = f"(length({a}) = 1 OR length({b}) = 1)"
    return f"coalesce({first_a} = {first_b} AND {first_a} <> '' AND {one}, false)"


def _swapped(spec: SwappedLevel, column: str, s: Sides) -> str:
    here_l, here_r = s.of(column)
    other_l, other_r = s.of(spec.other)
    # as the polars engine: only values starting like the other column's can be swapped
    plausible = (
        f"(substr({here_l}, 1, 1) = substr({other_r}, 1, 1) "
        f"OR substr({other_l}, 1, 1) = substr({here_r}, 1, 1))"
    )
    both = (
        f"{metric_test(spec.metric, here_l, other_r, spec.threshold, s.dialect)} AND "
        f"{metric_test(spec.metric, other_l, here_r, spec.threshold, s.dialect)}"
    )
    return f"coalesce({plausible} AND {both} AND {s.present(spec.other)}, false)"


def _else(spec: LevelSpec, column: str, s: Sides) -> str:
    return "true"


TRANSLATIONS: dict[str, Translation] = {
    "null": _null,
    "exact": _exact,
    "different": _different,
    "similarity": _similarity,
    "date_within": _date_within,
    "date_swapped": _date_swapped,
    "numeric_difference": _numeric,
    "phonetic": _phonetic,
    "nickname": _nickname,
    "initial": _initial,
    "swapped": _swapped,
    "else": _else,
}


def level_sql(spec: LevelSpec, column: str, s: Sides) -> str:
    """The level's test (comparators.build_level's semantics): its own, guarded by both sides
    present (all but null and else) and by `requires_equal`."""
    translate = TRANSLATIONS.get(spec.type)
    if translate is None:
        raise NoTranslation(
            f"the {s.dialect.name} engine has no SQL for comparison level {spec.type!r}",
            hint="run with --engine polars, or add the level to crmclean/engines/sql/levels.py",
        )
    own = spec.column or column
    test = translate(spec, own, s)
    if spec.type not in ("null", "else"):
        test = f"({s.present(own)} AND {test})"
    for other in spec.requires_equal:
        test = f"({s.equal(other)} AND {test})"
    return test


def gamma_sql(comparison: ComparisonSpec, s: Sides) -> str:
    """The comparison's gamma as one CASE expression (TINYINT)."""
    whens = []
    for level in comparison_levels(comparison):
        column = comparison.column if level.is_null else level.spec.column or comparison.column
        if level.spec.type == "else":
            whens.append(f"WHEN true THEN {level.gamma}")
            break
        whens.append(f"WHEN {level_sql(level.spec, column, s)} THEN {level.gamma}")
    return f"CAST(CASE {' '.join(whens)} ELSE 0 END AS TINYINT)"
